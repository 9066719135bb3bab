import CRMModel
import Normalizers

/// Segment spec calls → canonical events; a `{"batch": [...]}` gives one event per call.
///
/// Event id: `segment:<messageId>` (Segment's own de-duplication id, stable across retries).
/// External id: `userId`; calls that only carry an `anonymousId` use `anonymous:<anonymousId>` so
/// the two id spaces can never collide in the crosswalk. Event time: `timestamp`, else
/// `originalTimestamp`, `receivedAt`, `sentAt`.
///
/// | call | canonical |
/// |---|---|
/// | `identify` | contact.upserted, traits → fields |
/// | `track` | contact.tracked: `last_seen_at`, `last_activity_at`, `usage.<event>` = `properties.count` or 1 |
/// | `page` / `screen` | contact.tracked: `last_seen_at` |
/// | `group` | account.upserted (external id `groupId`), group traits → fields |
/// | `alias` | contact.merged: `previousId` merged into `userId` |
///
/// In `tracked` events `usage.*` values are increments (one occurrence, or `properties.count`),
/// not totals; ownership sums them per distinct event id.
enum SegmentAdapter {
    static let system = "segment"
    static let callTypes: Set<String> = ["identify", "track", "page", "screen", "group", "alias"]

    static func drafts(from root: JSONNode, context: AdapterContext) throws(EventError) -> [DraftEvent] {
        if let batch = try root.child("batch"), (try root.child("type")) == nil {
            let calls = try batch.array()
            guard !calls.isEmpty else { throw batch.schemaError("the batch is empty") }
            var drafts: [DraftEvent] = []
            for call in calls { drafts.append(try draft(from: call, context: context)) }
            return drafts
        }
        return [try draft(from: root, context: context)]
    }

    private static func draft(from call: JSONNode, context: AdapterContext) throws(EventError) -> DraftEvent {
        _ = try call.object()
        let typeNode = try call.required("type")
        let type = try typeNode.string()
        guard callTypes.contains(type) else {
            throw typeNode.schemaError("unknown Segment call type \(type.prefix(32)); expected one of \(callTypes.sorted().joined(separator: ", "))")
        }
        let messageIDNode = try call.required("messageId")
        let messageID = try messageIDNode.identifier()
        let occurredAt = try eventTime(of: call)

        var draft = DraftEvent(
            eventID: VendorID.escape("\(system):\(messageID)"), eventIDPath: messageIDNode.path,
            source: context.source, system: system, entity: .contact, action: .upserted,
            occurredAt: occurredAt, actor: nil, externalID: "", externalIDPath: "",
            strictTyping: false, refinesAction: true)

        switch type {
        case "group":
            let groupNode = try call.required("groupId")
            draft.entity = .account
            draft.externalID = VendorID.escape(try groupNode.identifier())
            draft.externalIDPath = groupNode.path
            if let traits = try call.optional("traits") {
                _ = try traits.object()
                draft.fields = try context.configuration.vendorFields.draftFields(system: system, object: "group", from: traits)
            }
        case "alias":
            let userNode = try call.required("userId")
            let previousNode = try call.required("previousId")
            draft.action = .merged
            draft.externalID = VendorID.escape(try userNode.identifier())
            draft.externalIDPath = userNode.path
            let previous = VendorID.escape(try previousNode.identifier())
            guard previous != draft.externalID else {
                throw EventError(.invalidValue, field: previousNode.path, "previousId equals userId: nothing to merge")
            }
            draft.mergedFrom = [previous]
        default:
            try setPerson(of: call, on: &draft)
            let timePath = JSONNode.join(call.path, "timestamp")
            switch type {
            case "identify":
                if let traits = try call.optional("traits") {
                    _ = try traits.object()
                    draft.fields = try context.configuration.vendorFields.draftFields(system: system, object: "identify", from: traits)
                }
            case "track":
                draft.action = .tracked
                draft.refinesAction = false
                draft.fields = [
                    DraftField(name: "last_seen_at", value: .typed(.timestamp(occurredAt)), path: timePath),
                    DraftField(name: "last_activity_at", value: .typed(.timestamp(occurredAt)), path: timePath),
                ]
                let eventNode = try call.required("event")
                guard let usageField = FieldCatalogue.usageField(forActivity: try eventNode.string()) else {
                    throw EventError(.invalidValue, field: eventNode.path, "event name has no letters or digits")
                }
                var increment = JSONValue.number("1")
                var incrementPath = eventNode.path
                if let count = try call.optional("properties")?.optional("count") {
                    increment = count.value
                    incrementPath = count.path
                }
                draft.fields.append(DraftField(name: usageField, value: .json(increment), path: incrementPath))
            default:  // page, screen
                draft.action = .tracked
                draft.refinesAction = false
                draft.fields = [DraftField(name: "last_seen_at", value: .typed(.timestamp(occurredAt)), path: timePath)]
            }
        }
        return draft
    }

    /// `userId`, else `anonymous:<anonymousId>`; one of them is required.
    private static func setPerson(of call: JSONNode, on draft: inout DraftEvent) throws(EventError) {
        if let user = try call.optional("userId") {
            draft.externalID = VendorID.escape(try user.identifier())
            draft.externalIDPath = user.path
        } else if let anonymous = try call.optional("anonymousId") {
            draft.externalID = "anonymous:" + VendorID.escape(try anonymous.identifier())
            draft.externalIDPath = anonymous.path
        } else {
            throw EventError(.missingField, field: JSONNode.join(call.path, "userId"), "userId or anonymousId is required")
        }
    }

    private static func eventTime(of call: JSONNode) throws(EventError) -> Timestamp {
        guard let node = try call.optional(anyOf: ["timestamp", "originalTimestamp", "receivedAt", "sentAt"]) else {
            throw EventError(.missingField, field: JSONNode.join(call.path, "timestamp"), "no timestamp, originalTimestamp, receivedAt or sentAt")
        }
        return try TimestampNormalizer.parse(try node.string(), field: node.path)
    }
}
