import CRMModel

/// One Kafka record from a source topic, as the consumer hands it to the pipeline.
public struct RawEvent: Sendable {
    /// The source topic (`crm.events.v1`, …); only used in messages, never for routing.
    public var topic: String
    /// The record key; producer's choice, not interpreted by normalize.
    public var key: [UInt8]?
    /// The record value: the bytes to normalize.
    public var value: [UInt8]
    /// Record headers in order; `crmsync-format` selects the format explicitly.
    public var headers: [(String, [UInt8])]
    /// The source kind implied by the topic (`crm.events.v1` → `.crm`). Vendor payloads get it;
    /// a canonical envelope names its own `source` (enrichment events have no topic of their own).
    public var source: Source

    public init(topic: String, key: [UInt8]? = nil, value: [UInt8], headers: [(String, [UInt8])] = [], source: Source) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
        self.source = source
    }

    /// The last value of header `name` (Kafka allows repeats; the last one wins, as in most clients).
    public func header(_ name: String) -> [UInt8]? {
        headers.last { $0.0 == name }?.1
    }
}

/// The payload formats a source topic accepts (docs/contract.md#choosing-the-format).
public enum InputFormat: String, Sendable, Hashable, CaseIterable {
    /// crmsync's own envelope, `topics/schemas/canonical-event.schema.json`.
    case canonical
    /// Salesforce Change Data Capture events (`ChangeEventHeader`).
    case salesforceCDC = "salesforce-cdc"
    /// HubSpot webhook v3 batches.
    case hubspotWebhook = "hubspot-webhook"
    /// Stripe event objects.
    case stripe
    /// Segment spec calls (identify / track / group / page / screen / alias), or a `batch` of them.
    case segment

    /// The record header that names the format explicitly; shape detection is the fallback.
    public static let headerName = "crmsync-format"

    /// The `system` value vendor adapters write into canonical events.
    var vendorSystem: String? {
        switch self {
        case .canonical: nil
        case .salesforceCDC: "salesforce"
        case .hubspotWebhook: "hubspot"
        case .stripe: "stripe"
        case .segment: "segment"
        }
    }
}
