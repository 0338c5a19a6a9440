package local.kafkadashboard.configindex;

import apicurio.common.app.components.config.index.DynamicPropertiesInfoRecorder;
import io.apicurio.common.apps.config.DynamicConfigPropertyDef;
import io.apicurio.common.apps.config.DynamicConfigPropertyList;
import io.quarkus.arc.deployment.SyntheticBeanBuildItem;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.deployment.annotations.ExecutionTime;
import io.quarkus.deployment.annotations.Record;
import java.util.ArrayList;
import java.util.List;

/** The one build step: the runtime half injects a DynamicConfigPropertyList; give it an empty one. */
public class ConfigIndexStandInProcessor {
    @BuildStep
    @Record(ExecutionTime.RUNTIME_INIT)
    SyntheticBeanBuildItem dynamicPropertyList(DynamicPropertiesInfoRecorder recorder) {
        // A mutable list: the recorder replays it in bytecode and needs a no-arg constructor.
        List<DynamicConfigPropertyDef> none = new ArrayList<>();
        return SyntheticBeanBuildItem.configure(DynamicConfigPropertyList.class)
                .runtimeValue(recorder.initializePropertiesInfo(none))
                .unremovable()
                .setRuntimeInit()
                .done();
    }
}
