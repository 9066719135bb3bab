import CRMModel
import Normalizers

/// One vendor field → one canonical field. `vendorPath` may be dotted for nested objects
/// (`Name.FirstName`, `address.country`, `company.name`).
public struct FieldMapping: Sendable, Hashable {
    public var vendorPath: String
    public var field: String

    public init(_ vendorPath: String, _ field: String) {
        self.vendorPath = vendorPath
        self.field = field
    }

    /// The target of a vendor's full-name field: split into `first_name` and `last_name` by
    /// ``FullNameSplitter`` (listed after the vendor's own first/last names, which win).
    public static let fullName = "(full name)"
}

/// Vendor field names → canonical field names, as data: one table per vendor object.
///
/// Adapters only read values through these tables; a vendor field that is not listed is ignored
/// (custom properties, system fields), never guessed. When a vendor offers the same value under
/// two names (Salesforce's compound `Name.FirstName` and flat `FirstName`), the first listed wins.
/// Tables are keyed `"<system>/<object>"` (e.g. `salesforce/Lead`, `hubspot/contact`).
public struct VendorFieldMap: Sendable {
    public var tables: [String: [FieldMapping]]

    public init(tables: [String: [FieldMapping]]) {
        self.tables = tables
    }

    public func mappings(system: String, object: String) -> [FieldMapping] {
        tables["\(system)/\(object)"] ?? []
    }

    /// Canonical name for one vendor property (HubSpot sends one property per event).
    public func field(system: String, object: String, vendorName: String) -> String? {
        mappings(system: system, object: object).first { $0.vendorPath == vendorName }?.field
    }

    /// The shipped tables, from each vendor's standard object/property names.
    public static let `default` = VendorFieldMap(tables: [
        // Salesforce: standard fields of the CDC-enabled objects. Lead/Contact `Name` is a compound
        // field in change events; the flat names cover Pub/Sub decoders that flatten it.
        "salesforce/Lead": [
            .init("Name.FirstName", "first_name"), .init("FirstName", "first_name"),
            .init("Name.LastName", "last_name"), .init("LastName", "last_name"),
            .init("Email", "email"),
            .init("Phone", "phone"), .init("MobilePhone", "phone"),
            .init("Title", "job_title"),
            .init("Company", "company_name"),
            .init("Website", "website"),
            .init("Industry", "industry"),
            .init("NumberOfEmployees", "company_size"),
            .init("Address.Country", "country"), .init("Country", "country"),
            .init("LeadSource", "lead_source"),
            .init("Status", "lead_status"),
            .init("HasOptedOutOfEmail", "email_opt_out"),
            .init("LastActivityDate", "last_activity_at"),
        ],
        "salesforce/Contact": [
            .init("Name.FirstName", "first_name"), .init("FirstName", "first_name"),
            .init("Name.LastName", "last_name"), .init("LastName", "last_name"),
            .init("Email", "email"),
            .init("Phone", "phone"), .init("MobilePhone", "phone"),
            .init("Title", "job_title"),
            .init("MailingAddress.Country", "country"), .init("MailingCountry", "country"),
            .init("LeadSource", "lead_source"),
            .init("HasOptedOutOfEmail", "email_opt_out"),
            .init("LastActivityDate", "last_activity_at"),
        ],
        "salesforce/Account": [
            .init("Name", "company_name"),
            .init("Website", "website"),
            .init("Industry", "industry"),
            .init("NumberOfEmployees", "company_size"),
            .init("BillingAddress.Country", "country"), .init("BillingCountry", "country"),
            .init("Phone", "phone"),
            .init("AccountSource", "lead_source"),
            .init("OwnerId", "owner"),
            .init("LastActivityDate", "last_activity_at"),
        ],
        "salesforce/Opportunity": [
            .init("Name", "name"),
            .init("StageName", "stage"),
            .init("Amount", "amount"),
            .init("CurrencyIsoCode", "currency"),
            .init("CloseDate", "close_date"),
            .init("ContactId", "primary_contact"),
            .init("OwnerId", "owner"),
            .init("AccountId", "account"),
            .init("LastActivityDate", "last_activity_at"),
        ],
        // HubSpot: internal property names of the default contact/company/deal properties.
        "hubspot/contact": [
            .init("email", "email"),
            .init("firstname", "first_name"),
            .init("lastname", "last_name"),
            .init("phone", "phone"), .init("mobilephone", "phone"),
            .init("jobtitle", "job_title"),
            .init("company", "company_name"),
            .init("website", "website"),
            .init("industry", "industry"),
            .init("numemployees", "company_size"),
            .init("country", "country"),
            .init("hubspotscore", "lead_score"),
            .init("hs_lead_status", "lead_status"),
            .init("lifecyclestage", "lifecycle_stage"),
            .init("hs_analytics_source", "original_source"),
            .init("hs_email_optout", "email_opt_out"),
            .init("notes_last_updated", "last_activity_at"),
        ],
        "hubspot/company": [
            .init("name", "company_name"),
            .init("domain", "company_domain"),
            .init("website", "website"),
            .init("industry", "industry"),
            .init("numberofemployees", "company_size"),
            .init("country", "country"),
            .init("phone", "phone"),
            .init("lifecyclestage", "lifecycle_stage"),
            .init("hubspot_owner_id", "owner"),
            .init("notes_last_updated", "last_activity_at"),
        ],
        "hubspot/deal": [
            .init("dealname", "name"),
            .init("dealstage", "stage"),
            .init("amount", "amount"),
            .init("deal_currency_code", "currency"),
            .init("closedate", "close_date"),
            .init("hubspot_owner_id", "owner"),
            .init("notes_last_updated", "last_activity_at"),
        ],
        // Stripe customer objects. `name` is a person's full name when customers are contacts,
        // the company's name when they are accounts.
        "stripe/customer:contact": [
            .init("email", "email"),
            .init("phone", "phone"),
            .init("address.country", "country"),
            .init("name", FieldMapping.fullName),
        ],
        "stripe/customer:account": [
            .init("name", "company_name"),
            .init("phone", "phone"),
            .init("address.country", "country"),
        ],
        // Segment: reserved traits of identify and group calls (both spellings seen in the wild).
        "segment/identify": [
            .init("email", "email"),
            .init("firstName", "first_name"), .init("first_name", "first_name"),
            .init("lastName", "last_name"), .init("last_name", "last_name"),
            .init("phone", "phone"),
            .init("title", "job_title"),
            .init("company.name", "company_name"), .init("company", "company_name"),
            .init("company.industry", "industry"),
            .init("company.employee_count", "company_size"),
            .init("company.plan", "plan"),
            .init("website", "website"),
            .init("industry", "industry"),
            .init("address.country", "country"),
            .init("plan", "plan"),
            // The reserved `name` trait is the full name; firstName/lastName above win over its split.
            .init("name", FieldMapping.fullName),
        ],
        "segment/group": [
            .init("name", "company_name"),
            .init("website", "website"),
            .init("industry", "industry"),
            .init("employees", "company_size"),
            .init("address.country", "country"),
            .init("phone", "phone"),
            .init("plan", "plan"),
        ],
    ])
}

extension VendorFieldMap {
    /// Reads every mapped path of `table` under `node` into draft fields. A mapped path that
    /// holds an object is skipped: it is a container (Segment `company: {name, …}`) whose
    /// members have mappings of their own.
    func draftFields(system: String, object: String, from node: JSONNode) throws(EventError) -> [DraftField] {
        var fields: [DraftField] = []
        for mapping in mappings(system: system, object: object) {
            guard let child = try node.descend(mapping.vendorPath) else { continue }
            if case .object = child.value { continue }
            if mapping.field == FieldMapping.fullName {
                // Only a text name is split; anything else is not a name and is left out.
                guard case .string(let text) = child.value, let parts = FullNameSplitter.split(text) else { continue }
                if let first = parts.first { fields.append(DraftField(name: "first_name", value: .typed(.string(first)), path: child.path)) }
                fields.append(DraftField(name: "last_name", value: .typed(.string(parts.last)), path: child.path))
                continue
            }
            fields.append(DraftField(name: mapping.field, value: .json(child.value), path: child.path))
        }
        return fields
    }
}
