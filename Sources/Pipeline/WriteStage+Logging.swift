import CRMModel
import Kafka

extension WriteStage {
    /// The canonical events' ids of a message that normalized, for its log lines.
    static func eventIDs(_ normalized: Result<[NormalizedEvent], EventError>) -> [String] {
        (try? normalized.get())?.map(\.event.eventID) ?? []
    }

    /// One line per event of `message` held for an identity review, once its savepoint committed
    /// (`outcomes` are in the order of the message's events).
    func logHeldForReview(_ message: ConsumerMessage, _ normalized: Result<[NormalizedEvent], EventError>, _ outcomes: [CountedOutcome]) {
        guard let events = try? normalized.get(), events.count == outcomes.count else { return }
        for (normalized, counted) in zip(events, outcomes) where counted.outcome == .review {
            var metadata = LogCoordinates.of(message, eventIDs: [normalized.event.eventID])
            metadata["system"] = "\(normalized.event.system)"
            logger.info("event held for review (identity undecided); a review request is open", metadata: metadata)
        }
    }
}
