package dashboard.test;

import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * A Kafka Streams application on the streams rebalance protocol (KIP-1071) that copies its input
 * topic to its output topic slowly (PAUSE_MS per record), so its group has members, tasks and a
 * lag that shrinks slowly while the tests read it.
 *
 * <p>Arguments: bootstrap, application id, input topic, output topic, PAUSE_MS.
 * Prints "RUNNING" once the application runs; stops when stdin closes.
 */
public final class LagApp {
    private LagApp() {}

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, args[1]);
        props.put(StreamsConfig.GROUP_PROTOCOL_CONFIG, "streams");
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 200);
        props.put(StreamsConfig.STATE_DIR_CONFIG, System.getProperty("java.io.tmpdir") + "/lagapp-" + args[1]);
        props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
        long pause = Long.parseLong(args[4]);

        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(args[2], Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
                .peek((k, v) -> {
                    try {
                        Thread.sleep(pause);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                })
                .to(args[3], Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));

        KafkaStreams streams = new KafkaStreams(builder.build(), props);
        CountDownLatch running = new CountDownLatch(1);
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING) {
                running.countDown();
            }
        });
        streams.start();
        running.await();
        System.out.println("RUNNING");
        System.out.flush();
        while (System.in.read() != -1) {
            // wait for stdin to close
        }
        streams.close();
    }
}
