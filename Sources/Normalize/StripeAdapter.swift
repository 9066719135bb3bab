import CRMModel
import Foundation
import Normalizers

/// Stripe event objects → one canonical billing event about the Stripe customer.
///
/// Event id: `stripe:<evt id>` (Stripe event ids are unique and stable across webhook retries).
/// External id: the Stripe customer id (`cus_…`) for every handled type, so customer, subscription
/// and invoice events all land on the same record.
///
/// | Stripe type | canonical |
/// |---|---|
/// | `customer.created` / `.updated` | upserted: email, phone, country (company name in account mode) |
/// | `customer.deleted` | deleted |
/// | `customer.subscription.created` / `.updated` / `.deleted` / `.paused` / `.resumed` | upserted: plan, mrr, billing_status |
/// | `invoice.paid` | upserted: last_invoice_at (+ email from `customer_email`) |
/// | `invoice.payment_failed` | upserted: billing_status `payment_failed` (mapped through the tables) |
///
/// Any other type is `unknown-entity`: crmsync does not model charges, payment intents, …
enum StripeAdapter {
    static let system = "stripe"

    /// Currencies without minor units (Stripe's list): amounts are already whole units.
    static let zeroDecimalCurrencies: Set<String> = [
        "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
    ]

    /// Subscription statuses whose recurring amount counts as MRR; trials and unpaid,
    /// incomplete or canceled subscriptions contribute 0.
    static let revenueStatuses: Set<String> = ["active", "past_due"]

    static let subscriptionTypes: Set<String> = [
        "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted",
        "customer.subscription.paused", "customer.subscription.resumed",
    ]

    static func drafts(from root: JSONNode, context: AdapterContext) throws(EventError) -> [DraftEvent] {
        let idNode = try root.required("id")
        let eventID = try idNode.identifier()
        let typeNode = try root.required("type")
        let type = try typeNode.string()
        let createdNode = try root.required("created")
        let occurredAt = try TimestampNormalizer.fromEpochSeconds(try createdNode.double(), field: createdNode.path)
        let object = try root.required("data").required("object")
        _ = try object.object()

        let entity = context.configuration.stripeCustomerEntity
        var draft = DraftEvent(
            eventID: VendorID.escape("\(system):\(eventID)"), eventIDPath: idNode.path,
            source: context.source, system: system, entity: entity, action: .upserted,
            occurredAt: occurredAt, actor: nil, externalID: "", externalIDPath: "",
            strictTyping: false, refinesAction: true)

        switch type {
        case "customer.created", "customer.updated", "customer.deleted":
            let customerNode = try object.required("id")
            draft.externalID = VendorID.escape(try customerNode.identifier())
            draft.externalIDPath = customerNode.path
            if type == "customer.deleted" {
                draft.action = .deleted
            } else {
                draft.isCreation = type == "customer.created"
                draft.fields = try context.configuration.vendorFields.draftFields(
                    system: system, object: "customer:\(entity.rawValue)", from: object)
            }
        case _ where subscriptionTypes.contains(type):
            try setCustomer(of: object, on: &draft)
            draft.fields = try subscriptionFields(object)
        case "invoice.paid":
            try setCustomer(of: object, on: &draft)
            var paidAt = try object.descend("status_transitions.paid_at")
            if paidAt?.isNull ?? true { paidAt = try object.optional("created") }
            if let paidAt, !paidAt.isNull {
                let instant = try TimestampNormalizer.fromEpochSeconds(try paidAt.double(), field: paidAt.path)
                draft.fields.append(DraftField(name: "last_invoice_at", value: .typed(.timestamp(instant)), path: paidAt.path))
            }
            if entity == .contact, let email = try object.optional("customer_email") {
                draft.fields.append(DraftField(name: "email", value: .json(email.value), path: email.path))
            }
        case "invoice.payment_failed":
            try setCustomer(of: object, on: &draft)
            draft.fields.append(DraftField(name: "billing_status", value: .typed(.string("payment_failed")),
                                           path: typeNode.path))
        default:
            throw EventError(.unknownEntity, field: typeNode.path,
                "Stripe event type \(type.prefix(64)) is not modeled (customers, subscriptions and paid/failed invoices are)")
        }
        return [draft]
    }

    /// Subscriptions and invoices name their customer as an id or an expanded object.
    private static func setCustomer(of object: JSONNode, on draft: inout DraftEvent) throws(EventError) {
        let customer = try object.required("customer")
        let idNode: JSONNode
        if case .object = customer.value { idNode = try customer.required("id") } else { idNode = customer }
        draft.externalID = VendorID.escape(try idNode.identifier())
        draft.externalIDPath = idNode.path
    }

    /// plan (price lookup key, nickname or id of the first item), mrr and billing_status.
    private static func subscriptionFields(_ subscription: JSONNode) throws(EventError) -> [DraftField] {
        let statusNode = try subscription.required("status")
        let status = try statusNode.string()
        var fields = [DraftField(name: "billing_status", value: .json(statusNode.value), path: statusNode.path)]

        var items: [JSONNode] = []
        if let itemsNode = try subscription.optional("items") {
            items = try itemsNode.required("data").array()
        }
        var monthly = Decimal(0)
        for item in items {
            guard let price = try item.optional(anyOf: ["price", "plan"]) else {
                throw EventError(.missingField, field: JSONNode.join(item.path, "price"), "subscription item has no price")
            }
            monthly += try monthlyAmount(price: price, quantity: item.optional("quantity"))
        }
        if let first = items.first, let price = try first.optional(anyOf: ["price", "plan"]) {
            for key in ["lookup_key", "nickname", "id"] {
                if let node = try price.optional(key), case .string(let text) = node.value, !text.trimmingWhitespace.isEmpty {
                    fields.append(DraftField(name: "plan", value: .json(node.value), path: node.path))
                    break
                }
            }
        }
        let mrr = revenueStatuses.contains(status) ? rounded(monthly) : Decimal(0)
        fields.append(DraftField(name: "mrr", value: .typed(.number(mrr)), path: JSONNode.join(subscription.path, "items")))
        return fields
    }

    /// One item's recurring amount per month, in major currency units.
    private static func monthlyAmount(price: JSONNode, quantity: JSONNode?) throws(EventError) -> Decimal {
        let amountNode = try price.optional(anyOf: ["unit_amount_decimal", "unit_amount", "amount"])
        guard let amountNode else {
            throw EventError(.missingField, field: JSONNode.join(price.path, "unit_amount"), "price has no amount")
        }
        let literal: String
        switch amountNode.value {
        case .number(let text): literal = text
        case .string(let text): literal = text
        default: throw amountNode.schemaError("expected a number, found \(amountNode.value.typeName)")
        }
        guard let minorUnits = EventBuilder.parseDecimal(literal) else {
            throw EventError(.invalidValue, field: amountNode.path, "not an amount: \(literal.prefix(40))")
        }
        let currency = try price.optional("currency")?.string().lowercased() ?? ""
        let major = zeroDecimalCurrencies.contains(currency) ? minorUnits : minorUnits / 100

        var count = Decimal(1)
        if let quantity {
            guard case .number(let text) = quantity.value, let value = EventBuilder.parseDecimal(text) else {
                throw quantity.schemaError("expected a number")
            }
            count = value
        }

        // `recurring` on prices, the interval directly on legacy plans.
        let recurring = try price.optional("recurring") ?? price
        let intervalNode = try recurring.required("interval")
        let interval = try intervalNode.string()
        var intervalCount = Decimal(1)
        if let countNode = try recurring.optional("interval_count") {
            guard case .number(let text) = countNode.value, let value = EventBuilder.parseDecimal(text), value > 0 else {
                throw countNode.schemaError("expected a positive number")
            }
            intervalCount = value
        }
        let perMonth: Decimal
        switch interval {
        case "month": perMonth = 1
        case "year": perMonth = Decimal(1) / 12
        case "week": perMonth = Decimal(52) / 12
        case "day": perMonth = Decimal(365) / 12
        default: throw EventError(.invalidValue, field: intervalNode.path, "unknown billing interval \(interval.prefix(16))")
        }
        return major * count * perMonth / intervalCount
    }

    /// MRR to the cent, half away from zero, so repeated computation is stable.
    static func rounded(_ value: Decimal) -> Decimal {
        var input = value
        var result = Decimal()
        NSDecimalRound(&result, &input, 2, .plain)
        return result
    }
}
