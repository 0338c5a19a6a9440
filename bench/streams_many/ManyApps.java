package dashboard.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;

/**
 * COUNT Kafka Streams applications in one JVM, each its own streams group (KIP-1071,
 * group.protocol=streams) reading the input topic from the start; once every one runs and has
 * had time to commit, all are closed: their groups stay, Empty, with committed offsets.
 *
 * <p>Arguments: bootstrap, application id prefix, COUNT, input topic. Prints "DONE N" and exits.
 */
public final class ManyApps {
    private ManyApps() {}

    public static void main(String[] args) throws Exception {
        int count = Integer.parseInt(args[2]);
        CountDownLatch running = new CountDownLatch(count);
        List<KafkaStreams> apps = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String id = String.format("%s%03d", args[1], i);
            Properties props = new Properties();
            props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
            props.put(StreamsConfig.APPLICATION_ID_CONFIG, id);
            props.put(StreamsConfig.GROUP_PROTOCOL_CONFIG, "streams");
            props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 500);
            props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
            props.put(StreamsConfig.STATE_DIR_CONFIG, System.getProperty("java.io.tmpdir") + "/manyapps-" + id);
            props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
            StreamsBuilder builder = new StreamsBuilder();
            builder.stream(args[3], Consumed.with(Serdes.ByteArray(), Serdes.ByteArray())).foreach((k, v) -> { });
            KafkaStreams streams = new KafkaStreams(builder.build(), props);
            AtomicBoolean counted = new AtomicBoolean();
            streams.setStateListener((now, before) -> {
                if (now == KafkaStreams.State.RUNNING && counted.compareAndSet(false, true)) {
                    running.countDown();
                }
            });
            streams.start();
            apps.add(streams);
        }
        if (!running.await(600, TimeUnit.SECONDS)) {
            System.out.println("NOT RUNNING " + running.getCount());
        }
        Thread.sleep(3000); // a few commit intervals: every app commits its input offsets
        for (KafkaStreams streams : apps) {
            streams.close(java.time.Duration.ofSeconds(30));
        }
        System.out.println("DONE " + count);
        System.out.flush();
    }
}
