import Store

extension WriteStage {
    /// Records a ``StopAlarm`` (kind, partition, offset, the line logged) so `crmsync stats`
    /// and the `crmsync_alarms` gauge show it after the process has stopped.
    public func recordStopAlarm(_ alarm: StopAlarm) throws {
        let kind: Alarm.Kind = switch alarm {
        case .foreignStore: .foreignStore
        case .unreadableBatch: .unreadableBatch
        }
        try store.write { tx in
            _ = try tx.raiseAlarm(Alarm(kind: kind, topic: alarm.partition.topic, partition: alarm.partition.partition,
                                        lostFrom: nil, lostTo: nil, resumedAt: alarm.offset, detail: alarm.description, raisedAt: clock.now()))
        }
    }
}
