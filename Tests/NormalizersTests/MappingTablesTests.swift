import CRMModel
import Foundation
import Normalizers
import PropertyBased
import Testing

@Suite struct MappingTablesTests {
    static let shippedPath = repositoryRoot.appendingPathComponent("config/picklists.yml").path
    let tables: MappingTables

    init() throws {
        tables = try MappingTables.load(path: Self.shippedPath)
    }

    @Test func shippedFileHasTheDocumentedPicklists() {
        for field in ["lifecycle_stage", "lead_status", "industry", "company_size", "lead_source", "original_source",
                      "billing_status", "country", "currency"] {
            #expect(tables.isPicklist(field: field), "\(field)")
        }
        #expect(!tables.isPicklist(field: "email"))
        #expect(!tables.isPicklist(field: "first_name"))
        #expect(tables.canonicalValues(field: "lifecycle_stage")
            == ["subscriber", "lead", "mql", "sql", "opportunity", "customer", "disqualified"])
    }

    @Test(arguments: [
        ("hubspot", "subscriber", "subscriber"), ("hubspot", "lead", "lead"), ("hubspot", "marketingqualifiedlead", "mql"),
        ("hubspot", "salesqualifiedlead", "sql"), ("hubspot", "opportunity", "opportunity"), ("hubspot", "customer", "customer"),
        ("hubspot", "evangelist", "customer"), ("hubspot", "Marketing Qualified Lead", "mql"),
        ("salesforce", "Open - Not Contacted", "lead"), ("salesforce", "closed - not converted", "disqualified"),
        ("salesforce", "  Sales   Qualified ", "sql"), ("segment", "MQL", "mql"), ("stripe", "customer", "customer"),
        ("marketo", "Sales Qualified Lead", "sql"), ("marketo", "SQL", "sql"),
    ])
    func lifecycleStages(system: String, vendor: String, canonical: String) throws {
        #expect(try tables.map(field: "lifecycle_stage", system: system, value: vendor) == canonical)
    }

    @Test func shippedLifecycleTableAgreesWithTheCanonicalModel() throws {
        // The table and CRMModel.LifecycleStage must name the same stages in the same order.
        #expect(tables.canonicalValues(field: "lifecycle_stage")?.sorted() == LifecycleStage.allCases.map(\.rawValue).sorted())
        for stage in LifecycleStage.allCases {
            #expect(tables.rank(field: "lifecycle_stage", value: stage.rawValue) == stage.rank, "\(stage)")
        }
    }

    @Test func lifecycleOrder() {
        let ranks = ["subscriber", "lead", "mql", "sql", "opportunity", "customer"].map {
            tables.rank(field: "lifecycle_stage", value: $0)
        }
        #expect(ranks == [0, 1, 2, 3, 4, 5])
        #expect(tables.rank(field: "lifecycle_stage", value: "disqualified") == nil)
        #expect(tables.rank(field: "industry", value: "banking") == nil)
    }

    @Test func picklistValuesAreCanonicalSlugs() throws {
        #expect(try tables.map(field: "industry", system: "salesforce", value: "Enterprise Software") == "enterprise_software")
        #expect(try tables.map(field: "industry", system: "hubspot", value: "COMPUTER_SOFTWARE") == "enterprise_software")
        #expect(try tables.map(field: "industry", system: "segment", value: "SaaS") == "enterprise_software")
        #expect(try tables.map(field: "company_size", system: "hubspot", value: "Enterprise") == "size_10001_plus")
        #expect(try tables.map(field: "company_size", system: "salesforce", value: "51 - 200") == "size_51_200")
        #expect(try tables.map(field: "lead_source", system: "hubspot", value: "ORGANIC_SEARCH") == "organic_search")
        #expect(try tables.map(field: "lead_source", system: "hubspot", value: "PAID_SEARCH") == "paid_search")
        #expect(try tables.map(field: "lead_source", system: "salesforce", value: "Phone Inquiry") == "phone_inquiry")
        #expect(try tables.map(field: "original_source", system: "salesforce", value: "Web") == "web")
        #expect(try tables.map(field: "billing_status", system: "stripe", value: "past_due") == "past_due")
        #expect(try tables.map(field: "billing_status", system: "stripe", value: "incomplete_expired") == "incomplete_expired")
        #expect(try tables.map(field: "country", system: "salesforce", value: "United States") == "us")
        #expect(try tables.map(field: "country", system: "hubspot", value: "DE") == "de")
        #expect(try tables.map(field: "country", system: "hubspot", value: "gbr") == "gb")
        #expect(try tables.map(field: "country", system: "segment", value: "Norway") == "no")
        #expect(try tables.map(field: "currency", system: "stripe", value: "EUR") == "eur")
        #expect(try tables.map(field: "lead_status", system: "hubspot", value: "IN_PROGRESS") == "in_progress")
    }

    @Test func unmappedValuesAreTypedErrors() {
        let error = expectEventError(.unmappedValue, field: "lifecycle_stage") { () throws(EventError) in
            try tables.map(field: "lifecycle_stage", system: "hubspot", value: "other")
        }
        #expect(error?.message.contains("\"other\"") == true)
        #expect(error?.message.contains("lifecycle_stage") == true)
        #expect(error?.message.contains("hubspot") == true)
        expectEventError(.unmappedValue, field: "industry") { () throws(EventError) in
            try tables.map(field: "industry", system: "salesforce", value: "Underwater Basket Weaving")
        }
        // A system's own map does not leak into another system.
        expectEventError(.unmappedValue, field: "lifecycle_stage") { () throws(EventError) in
            try tables.map(field: "lifecycle_stage", system: "hubspot", value: "Open - Not Contacted")
        }
        expectEventError(.unmappedValue, field: "email") { () throws(EventError) in
            try tables.map(field: "email", system: "hubspot", value: "x")
        }
    }

    @Test func multiSelectValuesMapAsASet() throws {
        let mapped = try tables.map(field: "industry", system: "hubspot", values: MultiSelect.parse("RETAIL;Ecommerce; BANKING"))
        #expect(mapped == ["banking", "retail"])
    }

    @Test func matchingIgnoresCaseAndWhitespace() async {
        let values = Gen.element(of: ["Marketing Qualified Lead", "marketingqualifiedlead", "Open - Not Contacted"]).compactMap { $0 }
        await propertyCheck(count: 100, input: values, Gen.bool, Gen.element(of: ["", " ", "\t", "  "]).compactMap { $0 }) { value, upper, pad throws in
            let system = value.hasPrefix("Open") ? "salesforce" : "hubspot"
            let variant = pad + (upper ? value.uppercased() : value.lowercased()) + pad
            #expect(try tables.map(field: "lifecycle_stage", system: system, value: variant)
                == tables.map(field: "lifecycle_stage", system: system, value: value))
        }
    }

    // MARK: Load errors name file, key and line

    func loadError(_ yaml: String) -> MappingTableError? {
        do {
            _ = try MappingTables(yaml: yaml, file: "picklists.yml")
            Issue.record("expected a MappingTableError")
            return nil
        } catch {
            #expect(error.file == "picklists.yml")
            return error
        }
    }

    @Test func unknownTargetValue() {
        let error = loadError("""
            version: 1
            picklists:
              lifecycle_stage:
                values: [lead, mql]
                map:
                  hubspot:
                    marketingqualifiedlead: mqll
            """)
        #expect(error?.keyPath == "picklists.lifecycle_stage.map.hubspot.marketingqualifiedlead")
        #expect(error?.line == 7)
        #expect(error?.description.hasPrefix("picklists.yml:7: ") == true)
    }

    @Test func conflictingEntries() {
        let error = loadError("""
            version: 1
            picklists:
              industry:
                values: [retail, banking]
                map:
                  "*":
                    Retail: retail
                    RETAIL: banking
            """)
        #expect(error?.keyPath == "picklists.industry.map.*.RETAIL")
    }

    @Test func structuralErrors() {
        #expect(loadError("version: 2\npicklists: {}\n")?.keyPath == "version")
        #expect(loadError("version: 1\npicklists:\n  x:\n    valuez: [a]\n")?.keyPath == "picklists.x.valuez")
        #expect(loadError("version: 1\npicklists:\n  x:\n    values: []\n")?.keyPath == "picklists.x.values")
        #expect(loadError("version: 1\npicklists:\n  x:\n    same_as: y\n")?.keyPath == "picklists.x.same_as")
        #expect(loadError("version: 1\npicklists:\n  x:\n    values: [a]\n    order: [b]\n")?.keyPath == "picklists.x.order")
        #expect(loadError("version: 1\nextra: 1\n")?.keyPath == "extra")
        #expect(loadError("- just\n- a list\n")?.keyPath == "")
        #expect(loadError("picklists: [unclosed\n")?.message.contains("YAML") == true)
    }

    @Test func yamlSyntaxErrorsAreOneLineWithTheirLine() {
        let error = loadError("version: 1\npicklists:\n  industry:\n    values: [retail]\n    map:\n      \"*\":\n        Retail: retail\n      \"*\":\n        Shops: retail\n")
        #expect(error?.message == "duplicate key: *")
        #expect(error?.line != nil)
        #expect(error.map { !$0.description.contains("\n") } == true, "one line: \(error?.description ?? "")")
    }

    @Test func missingFileNamesThePath() {
        #expect(throws: MappingTableError.self) { try MappingTables.load(path: "/nonexistent/picklists.yml") }
    }

    @Test func shippedBlocklistFileLoads() throws {
        let path = repositoryRoot.appendingPathComponent("config/blocked-identifiers.yml").path
        let list = try IdentifierBlocklist.load(path: path)
        #expect(list.isBlocked(value: "Pending"))
        #expect(list.isBlocked(emailMatchKey: "test@test.com"))   // the default list is kept
        #expect(!IdentifierBlocklist.default.isBlocked(value: "pending"))
        #expect(throws: MappingTableError.self) {
            try IdentifierBlocklist(yaml: "version: 1\nemail: [a@b.com]\n", file: "blocked.yml")
        }
    }
}
