import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.DeadLetterPublishingRecoverer;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.listener.KafkaMessageListenerContainer;
import org.springframework.kafka.listener.MessageListener;
import org.springframework.kafka.support.serializer.ErrorHandlingDeserializer;
import org.springframework.util.backoff.FixedBackOff;

/**
 * A listener that fails on every value containing "poison", with Spring Kafka's own
 * DeadLetterPublishingRecoverer behind a DefaultErrorHandler (no retries): the records it gives up on
 * go to Spring's default dead-letter topic with Spring's headers. Keys starting with "poison-key"
 * cannot be deserialized (an ErrorHandlingDeserializer around a picky key deserializer): those
 * records go to the same dead-letter topic with Spring's kafka_dlt-key-exception-* headers.
 * Runs until stdin closes.
 *
 * Arguments: bootstrap servers, topic, group id, and optionally a dead-letter topic: then a custom
 * destination resolver sends every dead letter to its partition 0 instead of Spring's default.
 */
public final class SpringDeadLetterWriter {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0], topic = args[1], group = args[2];

        Map<String, Object> producer = new HashMap<>();
        producer.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        producer.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        producer.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        KafkaTemplate<Object, Object> template = new KafkaTemplate<>(new DefaultKafkaProducerFactory<>(producer));

        Map<String, Object> consumer = new HashMap<>();
        consumer.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        consumer.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        consumer.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumer.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ErrorHandlingDeserializer.class);
        consumer.put(ErrorHandlingDeserializer.KEY_DESERIALIZER_CLASS, PickyKeyDeserializer.class);
        consumer.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);

        ContainerProperties properties = new ContainerProperties(topic);
        properties.setMessageListener((MessageListener<byte[], byte[]>) record -> {
            String value = record.value() == null ? "" : new String(record.value(), java.nio.charset.StandardCharsets.UTF_8);
            if (value.contains("poison")) {
                throw new IllegalArgumentException("cannot process " + value);
            }
            System.out.println("processed " + record.offset());
        });
        KafkaMessageListenerContainer<byte[], byte[]> container =
            new KafkaMessageListenerContainer<>(new DefaultKafkaConsumerFactory<>(consumer), properties);
        DeadLetterPublishingRecoverer recoverer = args.length > 3
            ? new DeadLetterPublishingRecoverer(template, (record, exception) -> new TopicPartition(args[3], 0))
            : new DeadLetterPublishingRecoverer(template);
        container.setCommonErrorHandler(new DefaultErrorHandler(recoverer, new FixedBackOff(0L, 0L)));
        container.start();
        System.out.println("started");
        System.out.flush();
        while (System.in.read() != -1) {
            // wait for stdin to close
        }
        container.stop();
        template.destroy();
    }

    /** Bytes as they are, except keys starting with "poison-key", which it refuses. */
    public static final class PickyKeyDeserializer implements Deserializer<byte[]> {
        @Override
        public byte[] deserialize(String topic, byte[] data) {
            if (data != null && new String(data, java.nio.charset.StandardCharsets.ISO_8859_1).startsWith("poison-key")) {
                throw new SerializationException("unreadable key in " + topic);
            }
            return data;
        }
    }
}
