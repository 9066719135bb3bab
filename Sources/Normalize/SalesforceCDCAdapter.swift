import CRMModel
import Normalizers

/// Salesforce Change Data Capture events → canonical events.
///
/// Accepted shapes: the change event payload itself (`{"ChangeEventHeader": {…}, "Email": …}`),
/// the CometD/Pub-Sub message `{"payload": {…}, "event": {"replayId": …}}`, and that message
/// wrapped once more in `{"data": …}` (Streaming API). One event per id in `recordIds`.
///
/// Event ids: `salesforce:<transactionKey>:<sequenceNumber>:<recordId>`. The header's
/// transactionKey + sequenceNumber identify one change event for good (a replay or redelivery
/// carries the same pair; a replayId differs per channel), and the record id makes the ids of
/// a multi-record event distinct. Without them the replayId stands in.
enum SalesforceCDCAdapter {
    static let system = "salesforce"

    /// Salesforce object → canonical entity. Leads are contacts at lifecycle stage "lead".
    static let entities: [String: Entity] = [
        "Lead": .contact, "Contact": .contact, "Account": .account, "Opportunity": .deal,
    ]

    private enum ChangeType: String {
        case create = "CREATE", update = "UPDATE", delete = "DELETE", undelete = "UNDELETE"
        case gapCreate = "GAP_CREATE", gapUpdate = "GAP_UPDATE", gapDelete = "GAP_DELETE"
        case gapUndelete = "GAP_UNDELETE", gapOverflow = "GAP_OVERFLOW"
    }

    /// The change event payload inside any accepted shape, or nil when this is not CDC.
    static func payloadNode(in root: JSONNode) -> JSONNode? {
        guard case .object(let object) = root.value else { return nil }
        if object["ChangeEventHeader"] != nil { return root }
        if let payload = object["payload"], payload.objectValue?["ChangeEventHeader"] != nil {
            return JSONNode(payload, path: JSONNode.join(root.path, "payload"))
        }
        if let data = object["data"] {
            return payloadNode(in: JSONNode(data, path: JSONNode.join(root.path, "data")))
        }
        return nil
    }

    /// The `{"payload", "event"}` message around the payload, for the replayId fallback.
    private static func replayID(in root: JSONNode) throws(EventError) -> String? {
        guard case .object(let object) = root.value else { return nil }
        if object["ChangeEventHeader"] != nil { return nil }
        if let event = try root.optional("event"), let replay = try event.optional("replayId") {
            return try replay.identifier()
        }
        if let data = try root.optional("data") { return try replayID(in: data) }
        return nil
    }

    static func drafts(from root: JSONNode, context: AdapterContext) throws(EventError) -> [DraftEvent] {
        guard let payload = payloadNode(in: root) else {
            throw EventError(.missingField, field: "ChangeEventHeader", "not a Salesforce change event: ChangeEventHeader is missing")
        }
        let header = try payload.required("ChangeEventHeader")
        _ = try header.object()

        let entityNode = try header.required("entityName")
        let objectName = try entityNode.string()
        guard let entity = entities[objectName] else {
            throw EventError(.unknownEntity, field: entityNode.path,
                "Salesforce object \(objectName.prefix(64)) is not modeled (expected Lead, Contact, Account or Opportunity)")
        }

        let changeTypeNode = try header.required("changeType")
        let changeTypeName = try changeTypeNode.string()
        guard let changeType = ChangeType(rawValue: changeTypeName) else {
            throw changeTypeNode.schemaError("unknown changeType \(changeTypeName.prefix(32))")
        }
        let action: Action
        switch changeType {
        case .create, .update: action = .upserted
        case .delete, .gapDelete: action = .deleted
        case .undelete, .gapUndelete: action = .restored
        case .gapCreate, .gapUpdate, .gapOverflow:
            // Gap events say "something changed" without the values: applying them would be a
            // silent no-op, so they go to the DLQ where an operator sees which records need a
            // resync from Salesforce.
            throw EventError(.invalidValue, field: changeTypeNode.path,
                "\(changeTypeName) carries no field values; resync the records from Salesforce and replay")
        }

        let recordIDsNode = try header.required("recordIds")
        var recordIDs: [String] = []
        for item in try recordIDsNode.array() {
            recordIDs.append(try item.identifier())
        }
        guard !recordIDs.isEmpty else {
            throw EventError(.missingField, field: recordIDsNode.path, "recordIds is empty")
        }

        let timestampNode = try header.required("commitTimestamp")
        let occurredAt = try TimestampNormalizer.fromEpochMilliseconds(try timestampNode.double(), field: timestampNode.path)

        let baseID: String
        if let transactionKey = try header.optional("transactionKey"), let sequence = try header.optional("sequenceNumber") {
            baseID = "\(try transactionKey.identifier()):\(try sequence.identifier())"
        } else if let replayID = try replayID(in: root) {
            baseID = "replay:\(replayID)"
        } else {
            throw EventError(.missingField, field: JSONNode.join(header.path, "transactionKey"),
                "neither transactionKey + sequenceNumber nor event.replayId identify this change event")
        }

        let actor = try header.optional("commitUser")?.identifier()
        let fields = try changedFields(payload: payload, header: header, objectName: objectName,
                                       changeType: changeType, context: context)

        // Lead conversion: the lead's change event names the contact it became.
        var convertedContactID: String?
        if objectName == "Lead", let converted = try payload.optional("ConvertedContactId") {
            convertedContactID = try converted.identifier()
        }

        return recordIDs.map { recordID in
            var draft = DraftEvent(
                eventID: VendorID.escape("\(system):\(baseID):\(recordID)"), eventIDPath: JSONNode.join(header.path, "transactionKey"),
                source: context.source, system: system, entity: entity, action: action,
                occurredAt: occurredAt, actor: actor.map(VendorID.escape),
                externalID: VendorID.escape(recordID), externalIDPath: recordIDsNode.path,
                fields: action == .deleted ? [] : fields,
                strictTyping: false, refinesAction: true, isCreation: changeType == .create)
            if let convertedContactID {
                draft.action = .converted
                draft.convertedFrom = VendorID.escape(recordID)
                draft.externalID = VendorID.escape(convertedContactID)
            }
            return draft
        }
    }

    /// The mapped fields this event carries. UPDATE events list what changed in `changedFields`
    /// (compound subfields as `Name.LastName`) and what was cleared in `nulledFields`; an
    /// unchanged field may still appear with a null value (Pub/Sub decoders), which says nothing.
    private static func changedFields(
        payload: JSONNode, header: JSONNode, objectName: String, changeType: ChangeType, context: AdapterContext
    ) throws(EventError) -> [DraftField] {
        let changed = try stringSet(header, "changedFields")
        let nulled = try stringSet(header, "nulledFields")
        let mappings = context.configuration.vendorFields.mappings(system: system, object: objectName)

        func mentioned(_ path: String, in names: Set<String>) -> Bool {
            if names.contains(path) { return true }
            let parts = path.split(separator: ".").map(String.init)
            return parts.count > 1 && (names.contains(parts[0]) || names.contains(parts[parts.count - 1]))
        }

        var fields: [DraftField] = []
        for mapping in mappings {
            let node = try payload.descend(mapping.vendorPath)
            if let nulled, mentioned(mapping.vendorPath, in: nulled) {
                fields.append(DraftField(name: mapping.field, value: .json(.null),
                                         path: node?.path ?? JSONNode.join(payload.path, mapping.vendorPath)))
                continue
            }
            guard let node else { continue }
            if case .object = node.value { continue }
            if changeType == .update, let changed, !mentioned(mapping.vendorPath, in: changed) { continue }
            if node.isNull {
                // Without nulledFields (older API versions) a changed field that is now null was cleared.
                guard changeType == .update, nulled == nil, changed != nil else { continue }
            }
            fields.append(DraftField(name: mapping.field, value: .json(node.value), path: node.path))
        }
        return fields
    }

    private static func stringSet(_ header: JSONNode, _ key: String) throws(EventError) -> Set<String>? {
        guard let node = try header.optional(key) else { return nil }
        var names = Set<String>()
        for item in try node.array() { names.insert(try item.string()) }
        return names
    }
}

/// Vendor ids made safe as canonical ids (`^[!-~]{1,256}$`): bytes outside visible ASCII and
/// `%` itself are percent-encoded, so distinct vendor ids stay distinct and the result is stable.
enum VendorID {
    static func escape(_ id: String) -> String {
        var result = ""
        for byte in id.utf8 {
            if byte >= 0x21, byte <= 0x7E, byte != UInt8(ascii: "%") {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                result += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return result
    }
}
