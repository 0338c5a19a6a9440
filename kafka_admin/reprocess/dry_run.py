"""plan(): what a reprocess of a selection would do now, without sending anything."""

from __future__ import annotations

from kafka_admin.config import ClusterConfig
from kafka_admin.reprocess.classify import Accept, Classifier, Targets
from kafka_admin.reprocess.errors import Halt, note
from kafka_admin.reprocess.ledger import Ledger
from kafka_admin.reprocess.limits import DEFAULT_BATCH_SIZE
from kafka_admin.reprocess.reports import Plan
from kafka_admin.reprocess.scan import Scanner
from kafka_admin.reprocess.selection import Selection, check_arguments
from kafka_admin.schemas.wire import framing


def plan(
    config: ClusterConfig,
    dlq_topic: str,
    selection: Selection,
    *,
    targets: Targets,
    ledger: Ledger,
    force: bool = False,
    accept: Accept | None = None,
    page_size: int = DEFAULT_BATCH_SIZE,
) -> Plan:
    """Dry run: read the selection (keys and values cut to VIEW_BYTES) and say what a reprocess would do."""
    result = Plan(dlq_topic)
    problem = check_arguments(selection, page_size, None)
    if problem:
        result.errors.append(problem)
        return result
    unsettled = {e.key for e in ledger.pending() if e.key[0] == dlq_topic}
    scanner = Scanner(config, dlq_topic, selection, page_size)
    classify = Classifier(config, dlq_topic, targets, ledger, force, accept, unsettled, actor="")
    target_errors: set[str] = set()
    try:
        for page in scanner.pages():
            result.not_found += page.missing
            room = 100 - len(result.not_found_sample)
            result.not_found_sample.extend((dlq_topic, page.partition, o) for o in page.missing_sample[:room])
            for d in classify(page):
                match d.kind:
                    case "send":
                        result.would_send += 1
                        result.per_target[d.target] = result.per_target.get(d.target, 0) + 1
                        frame = framing(d.record.value)
                        if frame is not None:
                            ids = result.schema_ids.setdefault(d.target, {})
                            ids[frame.schema_id] = ids.get(frame.schema_id, 0) + 1
                        if d.forced:
                            result.forced.append(d.key)
                    case "done":
                        result.skipped_done.append(d.key)
                    case "unmapped":
                        result.skipped_unmapped.append((d.key, d.reason))
                    case "filtered":
                        result.skipped_filtered += 1
                    case "missing_target":
                        result.missing_targets[d.target] = result.missing_targets.get(d.target, 0) + 1
                    case "unsettled":
                        result.unsettled.append(d.key)
                    case "too_large":
                        result.too_large.append((d.key, d.reason))
                    case "unreadable":
                        target_errors.add(f"{dlq_topic} partition {d.key[1]} offset {d.key[2]}: {d.reason}")
                    case _:
                        target_errors.add(d.reason)
    except Halt as halt:
        result.errors.append(str(halt))
    finally:
        scanner.close()
    result.selected = scanner.total
    result.not_found += scanner.outside_selected
    for message in sorted(target_errors):
        note(result.errors, message)
    for topic, count in sorted(result.missing_targets.items()):
        note(result.errors, f"target topic {topic} does not exist ({count} records); it is not created here")
    for message in scanner.notes:
        note(result.notes, message)
    return result
