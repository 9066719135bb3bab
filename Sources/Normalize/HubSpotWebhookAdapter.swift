import CRMModel
import Normalizers

/// HubSpot webhook v3 batches → canonical events, one per element (a lone object is a batch of one).
///
/// Event ids: `hubspot:<portalId>:<subscriptionId>:<eventId>:<objectId>`. HubSpot documents
/// `eventId` as not guaranteed unique on its own; scoped by portal and subscription and pinned to
/// the object it is stable across retries (`attemptNumber` is deliberately left out: a retry is
/// the same event).
///
/// Subscription types: `<object>.creation` / `.propertyChange` → upserted, `.deletion` /
/// `.privacyDeletion` → deleted, `.restore` → restored, `.merge` → merged. `.associationChange`
/// events and property changes of properties the field map does not list produce no canonical
/// event (nothing crmsync models changed).
enum HubSpotWebhookAdapter {
    static let system = "hubspot"

    /// HubSpot object type → canonical entity.
    static let entities: [String: Entity] = ["contact": .contact, "company": .account, "deal": .deal]

    static func drafts(from root: JSONNode, context: AdapterContext) throws(EventError) -> [DraftEvent] {
        let elements: [JSONNode]
        switch root.value {
        case .array: elements = try root.array()
        case .object: elements = [root]
        default: throw root.schemaError("expected an array of webhook events")
        }
        guard !elements.isEmpty else {
            throw root.schemaError("the webhook batch is empty")
        }
        var drafts: [DraftEvent] = []
        for element in elements {
            if let draft = try draft(from: element, context: context) { drafts.append(draft) }
        }
        return drafts
    }

    private static func draft(from element: JSONNode, context: AdapterContext) throws(EventError) -> DraftEvent? {
        _ = try element.object()
        let typeNode = try element.required("subscriptionType")
        let subscriptionType = try typeNode.string()
        guard let (objectName, change) = EventType.parts(of: subscriptionType) else {
            throw typeNode.schemaError("subscriptionType must be <object>.<change>")
        }
        guard let entity = entities[objectName] else {
            throw EventError(.unknownEntity, field: typeNode.path,
                "HubSpot object \(objectName.prefix(64)) is not modeled (expected contact, company or deal)")
        }

        let eventID = try element.required("eventId").identifier()
        let subscriptionID = try element.required("subscriptionId").identifier()
        let portalID = try element.required("portalId").identifier()
        let objectIDNode = try element.required("objectId")
        let objectID = try objectIDNode.identifier()
        let occurredNode = try element.required("occurredAt")
        let occurredAt = try TimestampNormalizer.fromEpochMilliseconds(try occurredNode.double(), field: occurredNode.path)
        var actor = try element.optional("sourceId")?.identifier()
        if actor == nil { actor = try element.optional("changeSource")?.identifier() }

        var draft = DraftEvent(
            eventID: VendorID.escape("\(system):\(portalID):\(subscriptionID):\(eventID):\(objectID)"),
            eventIDPath: JSONNode.join(element.path, "eventId"),
            source: context.source, system: system, entity: entity, action: .upserted,
            occurredAt: occurredAt, actor: actor.map(VendorID.escape),
            externalID: VendorID.escape(objectID), externalIDPath: objectIDNode.path,
            strictTyping: false, refinesAction: true)

        switch change {
        case "creation":
            draft.isCreation = true
        case "propertyChange":
            let nameNode = try element.required("propertyName")
            let propertyName = try nameNode.string()
            guard let field = context.configuration.vendorFields.field(system: system, object: objectName, vendorName: propertyName) else {
                return nil
            }
            // An absent propertyValue and "" both mean the property was cleared.
            let valueNode = try element.child("propertyValue") ?? JSONNode(.null, path: JSONNode.join(element.path, "propertyValue"))
            draft.fields = [DraftField(name: field, value: .json(valueNode.value), path: valueNode.path)]
        case "deletion", "privacyDeletion":
            draft.action = .deleted
        case "restore":
            draft.action = .restored
        case "merge":
            draft.action = .merged
            let primary = try element.optional("primaryObjectId")?.identifier()
            let winner = try element.optional("newObjectId")?.identifier() ?? primary ?? objectID
            draft.externalID = VendorID.escape(winner)
            let mergedNode = try element.required("mergedObjectIds")
            var absorbed: [String] = []
            if let primary, primary != winner {
                absorbed.append(primary)
            }
            for item in try mergedNode.array() {
                let id = try item.identifier()
                if id != winner, !absorbed.contains(id) { absorbed.append(id) }
            }
            guard !absorbed.isEmpty else {
                throw EventError(.missingField, field: mergedNode.path, "a merge must name at least one merged record")
            }
            draft.mergedFrom = absorbed.map(VendorID.escape)
        case "associationChange":
            return nil
        default:
            throw typeNode.schemaError("unsupported subscription type \(subscriptionType.prefix(64))")
        }
        return draft
    }
}
