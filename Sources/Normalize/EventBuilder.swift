import CRMModel
import Foundation
import Normalizers

/// What adapters need besides the payload.
struct AdapterContext {
    /// The source implied by the topic.
    let source: Source
    let configuration: NormalizeConfiguration
}

/// A field value as an adapter found it, before typing by kind.
enum DraftValue {
    /// Raw JSON, typed and normalized by the field's kind.
    case json(JSONValue)
    /// Already typed by the adapter (Stripe epoch seconds, computed MRR, consent records);
    /// still normalized by kind where that applies.
    case typed(FieldValue)
}

/// One mapped field: canonical name, value, and where in the message it came from.
struct DraftField {
    let name: String
    let value: DraftValue
    let path: String
}

/// An adapter's output: a canonical event whose field values are not yet typed or normalized.
struct DraftEvent {
    var eventID: String
    var eventIDPath: String
    var source: Source
    var system: String
    var entity: Entity
    var action: Action
    var occurredAt: Timestamp
    var actor: String?
    var externalID: String
    var externalIDPath: String
    var fields: [DraftField] = []
    var mergedFrom: [String] = []
    var convertedFrom: String?
    /// Canonical envelopes are typed strictly (a number is a JSON number); vendor payloads
    /// leniently (HubSpot sends every value as a string).
    var strictTyping: Bool
    /// Vendor creations keep `upserted`; other vendor upserts that only change opt-out/consent
    /// become `unsubscribed` / `consent_changed`. Canonical events keep the type they were given.
    var refinesAction: Bool
    var isCreation: Bool = false
}

/// Turns drafts into ``NormalizedEvent``s: types every field by its kind, runs the value
/// normalizers, derives the company domain and computes the match keys.
struct EventBuilder {
    let configuration: NormalizeConfiguration
    let phoneNormalizer: PhoneNormalizer

    /// Longest event or external id accepted, in UTF-8 bytes (Kafka keys and store keys).
    static let maxIdentifierBytes = CanonicalAdapter.maxIdentifierLength

    private struct Identity {
        var emailMatchKey: String?
        var phoneMatchKey: String?
    }

    func build(_ draft: DraftEvent) throws(EventError) -> NormalizedEvent {
        try checkIdentifier(draft.eventID, path: draft.eventIDPath)
        try checkIdentifier(draft.externalID, path: draft.externalIDPath)
        for reference in draft.mergedFrom + (draft.convertedFrom.map { [$0] } ?? []) {
            try checkIdentifier(reference, path: draft.externalIDPath)
        }
        guard EventType.isAllowed(draft.entity, draft.action) else {
            throw EventError(.schema, field: "type", "\(draft.entity.rawValue).\(draft.action.rawValue) is not a valid event type")
        }

        var fields: [String: FieldValue] = [:]
        var identity = Identity()
        var derivedWebsiteDomain: String?
        for field in draft.fields {
            guard let kind = FieldCatalogue.kind(of: field.name, on: draft.entity) else {
                throw EventError(.schema, field: field.path, "\(draft.entity.rawValue) has no field \(field.name)")
            }
            // The first mapping wins when a vendor offers the same value twice (Name.FirstName / FirstName).
            guard fields[field.name] == nil else { continue }
            let value = try typedValue(field, kind: kind, draft: draft, identity: &identity)
            fields[field.name] = value
            if kind == .url, case .string(let website) = value {
                derivedWebsiteDomain = websiteDomain(website)
            }
        }

        deriveCompanyDomain(into: &fields, entity: draft.entity, websiteDomain: derivedWebsiteDomain,
                            emailIsUsable: identity.emailMatchKey != nil)
        let action = refinedAction(draft, fields: fields)
        applyActionMeaning(into: &fields, entity: draft.entity, action: action, draft: draft)
        // The actor is informational: a vendor's over-long one is shortened to the contract's limit.
        let actor = draft.actor.map { String(String.UnicodeScalarView($0.unicodeScalars.prefix(CanonicalAdapter.maxActorLength))) }
        let event = CanonicalEvent(
            eventID: draft.eventID, source: draft.source, system: draft.system,
            type: EventType(draft.entity, action), occurredAt: draft.occurredAt, actor: actor,
            externalID: draft.externalID, fields: fields, mergedFrom: draft.mergedFrom,
            convertedFrom: draft.convertedFrom)
        return NormalizedEvent(event: event, matchKeys: matchKeys(event, identity: identity))
    }

    private func checkIdentifier(_ id: String, path: String) throws(EventError) {
        guard !id.isEmpty else { throw EventError(.missingField, field: path, "identifier is empty") }
        guard id.utf8.count <= Self.maxIdentifierBytes else {
            throw EventError(.oversized, field: path, "identifier is \(id.utf8.count) bytes; the limit is \(Self.maxIdentifierBytes)")
        }
    }

    // MARK: Typing by kind

    private func typedValue(_ field: DraftField, kind: FieldKind, draft: DraftEvent, identity: inout Identity) throws(EventError) -> FieldValue {
        let path = field.path
        switch field.value {
        case .typed(let value):
            return try normalizeTyped(value, kind: kind, name: field.name, path: path, draft: draft, identity: &identity)
        case .json(let json):
            if json.isNull { return .null }
            switch kind {
            case .text, .email, .phone, .name, .domain, .url, .currency, .picklist:
                guard let text = try scalarText(json, path: path, strict: draft.strictTyping) else { return .null }
                return try normalizeTyped(.string(text), kind: kind, name: field.name, path: path, draft: draft, identity: &identity)
            case .number, .money:
                return .number(try decimal(json, kind: kind, path: path, strict: draft.strictTyping))
            case .boolean:
                return try boolean(json, path: path, strict: draft.strictTyping)
            case .timestamp:
                return try timestamp(json, path: path, strict: draft.strictTyping)
            case .multiSelect:
                return try multiSelect(json, name: field.name, path: path, draft: draft)
            case .consent:
                return .consent(try consentRecords(json, path: path, draft: draft))
            }
        }
    }

    /// A string value for a string-kinded field; nil when blank (a blank string means "empty").
    private func scalarText(_ json: JSONValue, path: String, strict: Bool) throws(EventError) -> String? {
        let text: String
        switch json {
        case .string(let value): text = value
        case .number(let literal) where !strict: text = literal
        case .bool(let flag) where !strict: text = flag ? "true" : "false"
        default:
            throw EventError(.schema, field: path, "expected a string, found \(json.typeName)")
        }
        try checkLength(text, path: path)
        let trimmed = text.trimmingWhitespace
        return trimmed.isEmpty ? nil : trimmed
    }

    private func checkLength(_ text: String, path: String) throws(EventError) {
        guard text.utf8.count <= configuration.maxFieldBytes else {
            throw EventError(.oversized, field: path,
                "value is \(text.utf8.count) bytes; the limit is \(configuration.maxFieldBytes)")
        }
    }

    private func normalizeTyped(
        _ value: FieldValue, kind: FieldKind, name: String, path: String, draft: DraftEvent, identity: inout Identity
    ) throws(EventError) -> FieldValue {
        guard case .string(let raw) = value else { return value }
        try checkLength(raw, path: path)
        let text = raw.trimmingWhitespace
        if text.isEmpty { return .null }
        switch kind {
        case .text, .url:
            return .string(text)
        case .name:
            return NameNormalizer.normalize(text).map(FieldValue.string) ?? .null
        case .email:
            let email = try EmailNormalizer.normalize(text, field: path, blocklist: configuration.blocklist)
            if identity.emailMatchKey == nil { identity.emailMatchKey = email.matchKey }
            return .string(email.address)
        case .phone:
            let phone = try phoneNormalizer.normalize(text, field: path, blocklist: configuration.blocklist)
            if identity.phoneMatchKey == nil { identity.phoneMatchKey = phone.matchKey }
            return .string(phone.e164)
        case .domain:
            guard let domain = try DomainNormalizer.companyDomain(fromWebsite: text, field: path) else {
                throw EventError(.invalidValue, field: path, "not a company domain")
            }
            return .string(domain)
        case .currency:
            if configuration.mappingTables.isPicklist(field: name) {
                return .string(try picklistValue(text, name: name, path: path, system: draft.system))
            }
            let code = text.lowercased()
            guard code.utf8.count == 3, code.utf8.allSatisfy({ $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }) else {
                throw EventError(.invalidValue, field: path, "not an ISO 4217 currency code: \(text.prefix(16))")
            }
            return .string(code)
        case .picklist:
            return .string(try picklistValue(text, name: name, path: path, system: draft.system))
        case .number, .money, .boolean, .timestamp, .multiSelect, .consent:
            return value
        }
    }

    /// Maps a picklist value through the tables when they define the field; fields the tables
    /// do not constrain keep the value as sent (trimmed).
    private func picklistValue(_ text: String, name: String, path: String, system: String) throws(EventError) -> String {
        var mapped = text
        // Employee counts arrive as numbers (Salesforce NumberOfEmployees, HubSpot numberofemployees);
        // the canonical field is a size band, so a count becomes its band's label first.
        if name == "company_size", let count = Int(text) {
            guard let band = Self.employeeBand(count) else {
                throw EventError(.invalidValue, field: path, "employee count \(count) is negative")
            }
            mapped = band
        }
        if configuration.mappingTables.isPicklist(field: name) {
            do throws(EventError) {
                mapped = try configuration.mappingTables.map(field: name, system: system, value: mapped)
            } catch {
                // Re-anchor the error at the message path; the tables know only the field name.
                throw EventError(error.errorClass, stage: error.stage, field: path, error.message)
            }
        }
        if name == "lifecycle_stage", LifecycleStage(rawValue: mapped) == nil {
            throw EventError(.unmappedValue, field: path,
                "lifecycle stage \"\(text.prefix(64))\" of \(system) maps to no canonical stage")
        }
        return mapped
    }

    /// The conventional firmographic band of an employee count, as the label the picklist
    /// tables map ("201-500"); nil for negative counts.
    static func employeeBand(_ count: Int) -> String? {
        let bands: [(upTo: Int, label: String)] = [
            (10, "1-10"), (50, "11-50"), (200, "51-200"), (500, "201-500"),
            (1000, "501-1000"), (5000, "1001-5000"), (10000, "5001-10000"),
        ]
        guard count >= 0 else { return nil }
        return bands.first { count <= $0.upTo }?.label ?? "10001+"
    }

    private func decimal(_ json: JSONValue, kind: FieldKind, path: String, strict: Bool) throws(EventError) -> Decimal {
        let literal: String
        switch json {
        case .number(let text): literal = text
        case .string(let text) where !strict:
            try checkLength(text, path: path)
            literal = text.trimmingWhitespace
        // Money may be a decimal string even canonically (exact in every JSON library), in the
        // schema's plain form `^-?[0-9]+(\.[0-9]+)?$`.
        case .string(let text) where kind == .money:
            try checkLength(text, path: path)
            guard Self.isPlainDecimal(text) else {
                throw EventError(.schema, field: path, "expected a number or a plain decimal string like \"1250.00\"")
            }
            literal = text
        default:
            throw EventError(.schema, field: path, "expected a number, found \(json.typeName)")
        }
        guard let value = Self.parseDecimal(literal) else {
            throw EventError(.invalidValue, field: path, "not a number: \"\(literal.prefix(40))\"")
        }
        return value
    }

    /// `^-?[0-9]+(\.[0-9]+)?$`
    static func isPlainDecimal(_ text: String) -> Bool {
        var rest = Substring(text)
        if rest.hasPrefix("-") { rest = rest.dropFirst() }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return false }
        return parts.allSatisfy { part in !part.isEmpty && part.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } }
    }

    /// A JSON-grammar decimal literal (no hex, no `1,000`, no trailing junk) within Decimal's range.
    static func parseDecimal(_ literal: String) -> Decimal? {
        let bytes = Array(literal.utf8)
        guard !bytes.isEmpty, bytes.count <= 64 else { return nil }
        var index = 0
        func digits() -> Int {
            let start = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
            return index - start
        }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard digits() > 0 else { return nil }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return nil }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let exponentStart = index
            guard digits() > 0, index - exponentStart <= 3 else { return nil }
            guard let exponent = Int(String(decoding: bytes[exponentStart..<index], as: UTF8.self)), exponent <= 100 else { return nil }
        }
        guard index == bytes.count, let value = Decimal(string: literal, locale: Locale(identifier: "en_US_POSIX")),
              !value.isNaN
        else { return nil }
        return value
    }

    private func boolean(_ json: JSONValue, path: String, strict: Bool) throws(EventError) -> FieldValue {
        switch json {
        case .bool(let flag): return .bool(flag)
        case .string(let text) where !strict:
            switch text.trimmingWhitespace.lowercased() {
            case "true", "1", "yes": return .bool(true)
            case "false", "0", "no": return .bool(false)
            case "": return .null
            default: throw EventError(.invalidValue, field: path, "not a boolean: \"\(text.prefix(16))\"")
            }
        default:
            throw EventError(.schema, field: path, "expected a boolean, found \(json.typeName)")
        }
    }

    private func timestamp(_ json: JSONValue, path: String, strict: Bool) throws(EventError) -> FieldValue {
        switch json {
        case .string(let text):
            try checkLength(text, path: path)
            let trimmed = text.trimmingWhitespace
            if strict { return .timestamp(try CanonicalAdapter.strictTimestamp(JSONNode(json, path: path))) }
            if trimmed.isEmpty { return .null }
            // HubSpot writes date-times as epoch-millisecond strings.
            if trimmed.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
               let millis = Double(trimmed) {
                return .timestamp(try TimestampNormalizer.fromEpochMilliseconds(millis, field: path))
            }
            // Salesforce and HubSpot date fields (CloseDate, closedate) are calendar dates: midnight UTC.
            if Self.isCalendarDate(trimmed) {
                return .timestamp(try TimestampNormalizer.parse(trimmed + "T00:00:00Z", field: path))
            }
            return .timestamp(try TimestampNormalizer.parse(trimmed, field: path))
        case .number(let literal) where !strict:
            guard let millis = Double(literal) else {
                throw EventError(.invalidValue, field: path, "not an epoch time: \(literal.prefix(40))")
            }
            return .timestamp(try TimestampNormalizer.fromEpochMilliseconds(millis, field: path))
        default:
            throw EventError(.schema, field: path, "expected an RFC 3339 string, found \(json.typeName)")
        }
    }

    static func isCalendarDate(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return false }
        return bytes.enumerated().allSatisfy { offset, byte in
            offset == 4 || offset == 7 || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
        }
    }

    private func multiSelect(_ json: JSONValue, name: String, path: String, draft: DraftEvent) throws(EventError) -> FieldValue {
        var values: [String] = []
        switch json {
        case .array(let elements):
            for (offset, element) in elements.enumerated() {
                guard case .string(let text) = element else {
                    throw EventError(.schema, field: "\(path)[\(offset)]", "expected a string, found \(element.typeName)")
                }
                try checkLength(text, path: "\(path)[\(offset)]")
                values.append(contentsOf: MultiSelect.parse(text))
            }
        case .string(let text) where !draft.strictTyping:
            try checkLength(text, path: path)
            values = MultiSelect.parse(text)
        default:
            throw EventError(.schema, field: path, "expected an array of strings, found \(json.typeName)")
        }
        var mapped: [String] = []
        for value in values {
            mapped.append(try picklistValue(value, name: name, path: path, system: draft.system))
        }
        return .set(of: mapped)
    }

    /// Canonical consent records; `at`, `source`, `system` default to the event's own.
    private func consentRecords(_ json: JSONValue, path: String, draft: DraftEvent) throws(EventError) -> [ConsentRecord] {
        let node = JSONNode(json, path: path)
        var records: [ConsentRecord] = []
        for item in try node.array() {
            let object = try item.object()
            for key in object.keys where !ConsentKeys.all.contains(key) {
                throw EventError(.schema, field: JSONNode.join(item.path, key), "unknown consent property \(key.prefix(64))")
            }
            let channelNode = try item.required("channel")
            let channel = try channelNode.string().trimmingWhitespace.lowercased()
            try checkLength(channel, path: channelNode.path)
            guard !channel.isEmpty else { throw EventError(.missingField, field: channelNode.path, "channel is empty") }
            let granted = try item.required("granted").bool()
            var purpose: String?
            if let purposeNode = try item.optional("purpose") {
                let text = try purposeNode.string().trimmingWhitespace
                try checkLength(text, path: purposeNode.path)
                purpose = text.isEmpty ? nil : text
            }
            var at = draft.occurredAt
            if let atNode = try item.optional("at") {
                at = try CanonicalAdapter.strictTimestamp(atNode)
            }
            var source = draft.source
            if let sourceNode = try item.optional("source") {
                guard let known = Source(rawValue: try sourceNode.string()) else {
                    throw EventError(.schema, field: sourceNode.path, "unknown source")
                }
                source = known
            }
            var system = draft.system
            if let systemNode = try item.optional("system") {
                system = try systemNode.string()
                guard CanonicalAdapter.isSystemName(system) else {
                    throw systemNode.schemaError("system must be a lower-case name matching ^[a-z][a-z0-9_-]{0,63}$")
                }
            }
            records.append(ConsentRecord(channel: channel, purpose: purpose, granted: granted, at: at, source: source, system: system))
        }
        return records
    }

    enum ConsentKeys {
        static let all: Set<String> = ["channel", "purpose", "granted", "at", "source", "system"]
        static let required = ["channel", "granted"]
    }

    // MARK: Derivations

    private func websiteDomain(_ website: String) -> String? {
        guard !configuration.blocklist.isBlocked(value: website) else { return nil }
        // A website is free text in every CRM; garbage there must not sink the event, it just
        // yields no domain. (An explicit `company_domain` is validated strictly.)
        return try? DomainNormalizer.companyDomain(fromWebsite: website, field: "website")
    }

    /// Fills `company_domain` when the event does not mention it: from the website, else (for
    /// people) from a non-free-mail email address that is not blocked (`test@test.com` says
    /// nothing about a company).
    private func deriveCompanyDomain(into fields: inout [String: FieldValue], entity: Entity, websiteDomain: String?, emailIsUsable: Bool) {
        guard entity != .deal, fields["company_domain"] == nil else { return }
        if let websiteDomain {
            fields["company_domain"] = .string(websiteDomain)
        } else if entity == .contact, emailIsUsable, case .string(let email)? = fields["email"],
                  let domain = DomainNormalizer.companyDomain(fromEmail: email) {
            fields["company_domain"] = .string(domain)
        }
    }

    private func refinedAction(_ draft: DraftEvent, fields: [String: FieldValue]) -> Action {
        guard draft.refinesAction, draft.action == .upserted, !draft.isCreation, draft.entity != .deal else {
            return draft.action
        }
        if fields["email_opt_out"] == .bool(true) { return .unsubscribed }
        let consentFields: Set<String> = ["email_opt_out", "consent"]
        if !fields.isEmpty, fields.keys.allSatisfy(consentFields.contains) { return .consentChanged }
        return draft.action
    }

    /// The action carries its meaning, whatever the adapter (docs/contract.md#ownership, `sticky`): an
    /// `unsubscribed` event opts out of email (`email_opt_out = true`, whatever the fields said)
    /// and withdraws email consent at `occurred_at`; a `consent_changed` event's email opt-out and
    /// its email consent record (channel `email`, no purpose) each imply the other when only one
    /// is given. The explicit re-consent is then the `consent_changed` granting email consent.
    private func applyActionMeaning(into fields: inout [String: FieldValue], entity: Entity, action: Action, draft: DraftEvent) {
        guard FieldCatalogue.kind(of: "email_opt_out", on: entity) != nil,
              FieldCatalogue.kind(of: "consent", on: entity) != nil else { return }
        func emailRecord(granted: Bool) -> ConsentRecord {
            ConsentRecord(channel: "email", purpose: nil, granted: granted, at: draft.occurredAt, source: draft.source, system: draft.system)
        }
        var records: [ConsentRecord] = []
        if case .consent(let given)? = fields["consent"] { records = given }
        let emailConsent = records.last { $0.channel == "email" && $0.purpose == nil }
        switch action {
        case .unsubscribed:
            fields["email_opt_out"] = .bool(true)
            if emailConsent?.granted != false { records.append(emailRecord(granted: false)) }
            fields["consent"] = .consent(records)
        case .consentChanged:
            if case .bool(let optedOut)? = fields["email_opt_out"] {
                if emailConsent == nil {
                    records.append(emailRecord(granted: !optedOut))
                    fields["consent"] = .consent(records)
                }
            } else if let emailConsent {
                fields["email_opt_out"] = .bool(!emailConsent.granted)
            }
        default:
            return
        }
    }

    private func matchKeys(_ event: CanonicalEvent, identity: Identity) -> MatchKeys {
        var keys = MatchKeys(email: identity.emailMatchKey, phone: identity.phoneMatchKey)
        var domain = event.fields["company_domain"]?.stringValue
        if let candidate = domain, configuration.blocklist.isBlocked(value: candidate) { domain = nil }
        switch event.entity {
        case .contact:
            keys.nameCompany = NameNormalizer.nameCompanyKey(
                firstName: event.fields["first_name"]?.stringValue,
                lastName: event.fields["last_name"]?.stringValue,
                companyDomain: domain)
        case .account:
            keys.companyDomain = domain
        case .deal:
            break
        }
        return keys
    }
}
