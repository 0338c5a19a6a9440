import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.annotation.BackOff;
import org.springframework.kafka.annotation.EnableKafkaRetryTopic;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.annotation.RetryableTopic;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

/**
 * Spring Kafka's non-blocking retries (@RetryableTopic), as an application declares them: a listener
 * on the topic in -Dchain.topic that fails on every value containing "poison". Spring forwards each
 * failure to <topic>-retry-200, then <topic>-retry-20000 (back-off 200 ms, times 100), then <topic>-dlt,
 * with its kafka_dlt-* and retry_topic-* headers. The topics are made by the test (autoCreateTopics
 * false); the DLT has no consumer (autoStartDltHandler false), so dead letters wait there.
 * Runs until stdin closes.
 *
 * System properties: chain.bootstrap, chain.topic, chain.group.
 */
@Configuration
@EnableKafkaRetryTopic
public class SpringRetryChainWriter {

    public static void main(String[] args) throws Exception {
        try (AnnotationConfigApplicationContext context =
                 new AnnotationConfigApplicationContext(SpringRetryChainWriter.class)) {
            System.out.println("started");
            System.out.flush();
            while (System.in.read() != -1) {
                // wait for stdin to close
            }
        }
    }

    @Bean
    public Listener listener() {
        return new Listener();
    }

    @Bean
    public ConsumerFactory<byte[], byte[]> consumerFactory() {
        Map<String, Object> consumer = new HashMap<>();
        consumer.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, System.getProperty("chain.bootstrap"));
        consumer.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumer.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        consumer.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        return new DefaultKafkaConsumerFactory<>(consumer);
    }

    @Bean
    public ConcurrentKafkaListenerContainerFactory<byte[], byte[]> kafkaListenerContainerFactory(
            ConsumerFactory<byte[], byte[]> consumerFactory) {
        ConcurrentKafkaListenerContainerFactory<byte[], byte[]> factory = new ConcurrentKafkaListenerContainerFactory<>();
        factory.setConsumerFactory(consumerFactory);
        return factory;
    }

    @Bean
    public KafkaTemplate<byte[], byte[]> kafkaTemplate() {
        Map<String, Object> producer = new HashMap<>();
        producer.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, System.getProperty("chain.bootstrap"));
        producer.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        producer.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        return new KafkaTemplate<>(new DefaultKafkaProducerFactory<>(producer));
    }

    @Bean
    public ThreadPoolTaskScheduler taskScheduler() {
        return new ThreadPoolTaskScheduler();
    }

    /** The application's listener; the retry topics and the DLT are Spring's. */
    public static class Listener {
        @RetryableTopic(
            attempts = "3",
            backOff = @BackOff(delay = 200, multiplier = 100.0, maxDelay = 20000),
            autoCreateTopics = "false",
            autoStartDltHandler = "false")
        @KafkaListener(topics = "${chain.topic}", groupId = "${chain.group}")
        public void listen(ConsumerRecord<byte[], byte[]> record) {
            String value = record.value() == null ? "" : new String(record.value(), StandardCharsets.UTF_8);
            System.out.println("received " + record.topic() + " " + record.offset());
            System.out.flush();
            if (value.contains("poison")) {
                throw new IllegalStateException("cannot process " + value);
            }
            System.out.println("processed " + record.topic() + " " + record.offset());
            System.out.flush();
        }
    }
}
