import CRMModel
import Foundation
import Normalizers
import Testing

@testable import Normalize

/// The shipped `config/picklists.yml` maps every picklist value the vendor fixtures use:
/// a stage configured as in production normalizes all of them.
@Suite struct ShippedConfigTests {
    @Test(arguments: VendorFixtureTests.cases)
    func shippedTablesMapVendorFixtures(_ testCase: VendorFixtureTests.Case) throws {
        let path = Support.repositoryRoot.appendingPathComponent("config/picklists.yml").path
        let stage = try NormalizeStage(defaultPhoneRegion: "US", mappingTables: try MappingTables.load(path: path))
        let bytes = try Support.fixtureBytes("\(testCase.format.rawValue)/\(testCase.name).json")
        let events = Support.success(stage.normalize(Support.raw(bytes, source: testCase.source)))
        #expect(!events.isEmpty)
    }
}
