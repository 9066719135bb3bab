import CRMModel
import Kafka

extension WriteStage {
    /// The canonical events' ids of a message that normalized, for its log lines.
    static func eventIDs(_ normalized: NormalizeFeed.Normalized) -> [String] {
        (try? normalized.get())?.map(\.normalized.event.eventID) ?? []
    }

    /// One line per event of `message` held for an identity review, once its savepoint committed
    /// (`outcomes` are in the order of the message's events).
    func logHeldForReview(_ message: ConsumerMessage, _ normalized: NormalizeFeed.Normalized, _ outcomes: [CountedOutcome]) {
        guard let events = try? normalized.get(), events.count == outcomes.count else { return }
        for (prepared, counted) in zip(events, outcomes) where counted.outcome == .review {
            let normalized = prepared.normalized
            var metadata = LogCoordinates.of(message, eventIDs: [normalized.event.eventID])
            metadata["system"] = "\(normalized.event.system)"
            logger.info("event held for review (identity undecided); a review request is open", metadata: metadata)
        }
    }
}
