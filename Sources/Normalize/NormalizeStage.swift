import CRMModel
import Normalizers

/// Everything the normalize stage needs; plain values, built once from `crmsync.yml` and `config/`.
public struct NormalizeConfiguration: Sendable {
    /// ISO 3166 region used for phone numbers written without a country code (`US`, `GB`, …).
    public var defaultPhoneRegion: String
    /// Picklist and lifecycle-stage tables (`config/picklists.yml`).
    public var mappingTables: MappingTables
    /// Identifier values that must never become match keys.
    public var blocklist: IdentifierBlocklist
    /// Vendor field name → canonical field name tables.
    public var vendorFields: VendorFieldMap
    /// Largest accepted message value, in bytes. Default 512 KiB: a real change event is a few
    /// KB (a full HubSpot batch of 100 events stays far below), and staying at half of Kafka's
    /// default 1 MiB `message.max.bytes` guarantees the dead letter — the original bytes plus the
    /// `crmsync.*` headers — still fits on `dlq.events.v1` with default broker settings.
    public var maxMessageBytes: Int
    /// Largest accepted string in any field value or id, in UTF-8 bytes. Default 8 KiB: canonical
    /// fields are names, addresses and picklist values; anything longer is a paste accident or
    /// an attack on the store, not data.
    public var maxFieldBytes: Int
    /// Most canonical events one message may expand to (HubSpot batches hold up to 100).
    public var maxEventsPerMessage: Int
    /// Deepest JSON nesting accepted.
    public var maxNestingDepth: Int
    /// What a Stripe customer is in the golden model: a person (`contact`, default: matched by
    /// email) or, for B2B setups that bill companies, an `account`.
    public var stripeCustomerEntity: Entity

    public static let defaultMaxMessageBytes = 512 * 1024
    public static let defaultMaxFieldBytes = 8 * 1024
    public static let defaultMaxEventsPerMessage = 1000

    public init(
        defaultPhoneRegion: String,
        mappingTables: MappingTables,
        blocklist: IdentifierBlocklist = .default,
        vendorFields: VendorFieldMap = .default,
        maxMessageBytes: Int = NormalizeConfiguration.defaultMaxMessageBytes,
        maxFieldBytes: Int = NormalizeConfiguration.defaultMaxFieldBytes,
        maxEventsPerMessage: Int = NormalizeConfiguration.defaultMaxEventsPerMessage,
        maxNestingDepth: Int = JSONParser.defaultMaxDepth,
        stripeCustomerEntity: Entity = .contact
    ) {
        self.defaultPhoneRegion = defaultPhoneRegion
        self.mappingTables = mappingTables
        self.blocklist = blocklist
        self.vendorFields = vendorFields
        self.maxMessageBytes = maxMessageBytes
        self.maxFieldBytes = maxFieldBytes
        self.maxEventsPerMessage = maxEventsPerMessage
        self.maxNestingDepth = maxNestingDepth
        self.stripeCustomerEntity = stripeCustomerEntity
    }
}

/// Stage 1 of the pipeline: one source-topic record → validated, normalized canonical events,
/// or one typed ``EventError`` that the caller dead-letters with the original bytes.
///
/// A pure, synchronous function of its input and configuration: no I/O, no clock, no globals.
///
/// **Multi-event messages** (HubSpot batches, Salesforce changes to several `recordIds`,
/// Segment `batch`): all or nothing. If any part fails, the whole message is one dead letter
/// whose error names the failing part (`[3].propertyValue`). The DLQ keeps the original bytes,
/// so a fixed message replays as a unit; applying the good half now and the rest on replay
/// would split one source change across two points in time and muddle the accounting.
public struct NormalizeStage: Sendable {
    public let configuration: NormalizeConfiguration
    let phoneNormalizer: PhoneNormalizer

    /// Fails with `invalid-value` when the default phone region is unknown.
    public init(configuration: NormalizeConfiguration) throws(EventError) {
        self.configuration = configuration
        self.phoneNormalizer = try PhoneNormalizer(defaultRegion: configuration.defaultPhoneRegion)
    }

    /// Convenience initializer with the common knobs.
    public init(
        defaultPhoneRegion: String,
        mappingTables: MappingTables,
        blocklist: IdentifierBlocklist = .default,
        maxMessageBytes: Int = NormalizeConfiguration.defaultMaxMessageBytes,
        maxFieldBytes: Int = NormalizeConfiguration.defaultMaxFieldBytes
    ) throws(EventError) {
        try self.init(configuration: NormalizeConfiguration(
            defaultPhoneRegion: defaultPhoneRegion, mappingTables: mappingTables, blocklist: blocklist,
            maxMessageBytes: maxMessageBytes, maxFieldBytes: maxFieldBytes))
    }

    /// Normalizes one record. An empty success means the message carried nothing crmsync models
    /// (e.g. only HubSpot association changes).
    public func normalize(_ input: RawEvent) -> Result<[NormalizedEvent], EventError> {
        do throws(EventError) {
            return .success(try normalizeOrThrow(input))
        } catch {
            return .failure(error)
        }
    }

    /// Same as ``normalize(_:)``, with typed throws.
    public func normalizeOrThrow(_ input: RawEvent) throws(EventError) -> [NormalizedEvent] {
        guard input.value.count <= configuration.maxMessageBytes else {
            throw EventError(.oversized,
                "message is \(input.value.count) bytes; the limit is \(configuration.maxMessageBytes)")
        }
        let requested = try Self.requestedFormat(input)
        let document = try JSONParser.parse(input.value, maxDepth: configuration.maxNestingDepth)
        let root = JSONNode(document)
        switch document {
        case .object, .array: break
        default: throw root.schemaError("a message must be a JSON object or array, found \(document.typeName)")
        }
        let format: InputFormat
        if let requested { format = requested } else { format = try Self.detectFormat(root) }
        return try normalize(root, format: format, input: input)
    }

    private func normalize(_ root: JSONNode, format: InputFormat, input: RawEvent) throws(EventError) -> [NormalizedEvent] {
        let context = AdapterContext(source: input.source, configuration: configuration)
        let drafts: [DraftEvent]
        switch format {
        case .canonical: drafts = try CanonicalAdapter.drafts(from: root, context: context)
        case .salesforceCDC: drafts = try SalesforceCDCAdapter.drafts(from: root, context: context)
        case .hubspotWebhook: drafts = try HubSpotWebhookAdapter.drafts(from: root, context: context)
        case .stripe: drafts = try StripeAdapter.drafts(from: root, context: context)
        case .segment: drafts = try SegmentAdapter.drafts(from: root, context: context)
        }
        guard drafts.count <= configuration.maxEventsPerMessage else {
            throw EventError(.oversized,
                "message expands to \(drafts.count) events; the limit is \(configuration.maxEventsPerMessage)")
        }
        let builder = EventBuilder(configuration: configuration, phoneNormalizer: phoneNormalizer)
        var events: [NormalizedEvent] = []
        events.reserveCapacity(drafts.count)
        for draft in drafts {
            events.append(try builder.build(draft))
        }
        return events
    }

    // MARK: Format detection

    /// The format named by the `crmsync-format` header, if any; an unknown name is an error
    /// rather than a silent fall-back to shape detection (the producer told us what it meant).
    static func requestedFormat(_ input: RawEvent) throws(EventError) -> InputFormat? {
        guard let bytes = input.header(InputFormat.headerName) else { return nil }
        let path = "headers.\(InputFormat.headerName)"
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw EventError(.unknownFormat, field: path, "header is not valid UTF-8")
        }
        let name = text.trimmingWhitespace.lowercased()
        guard let format = InputFormat(rawValue: name) else {
            let known = InputFormat.allCases.map(\.rawValue).joined(separator: ", ")
            throw EventError(.unknownFormat, field: path, "unknown format \"\(name.prefix(64))\"; expected one of \(known)")
        }
        return format
    }

    /// Tells formats apart by shape, most specific marker first.
    static func detectFormat(_ root: JSONNode) throws(EventError) -> InputFormat {
        switch root.value {
        case .array(let elements):
            if let first = elements.first?.objectValue, first["subscriptionType"] != nil {
                return .hubspotWebhook
            }
        case .object(let object):
            if object["event_id"] != nil, object["fields"] != nil || object["type"] != nil {
                return .canonical
            }
            if SalesforceCDCAdapter.payloadNode(in: root) != nil {
                return .salesforceCDC
            }
            if object["subscriptionType"] != nil, object["objectId"] != nil {
                return .hubspotWebhook
            }
            if object["object"]?.stringValue == "event" || (object["data"]?.objectValue?["object"] != nil && object["created"] != nil) {
                return .stripe
            }
            if let type = object["type"]?.stringValue, SegmentAdapter.callTypes.contains(type),
               object["messageId"] != nil || object["userId"] != nil || object["anonymousId"] != nil {
                return .segment
            }
            if object["batch"]?.arrayValue != nil {
                return .segment
            }
        default:
            break
        }
        throw EventError(.unknownFormat,
            "the payload matches no accepted format (canonical, salesforce-cdc, hubspot-webhook, stripe, segment); set the \(InputFormat.headerName) header or fix the shape")
    }
}
