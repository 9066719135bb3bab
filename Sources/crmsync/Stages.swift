import CRMModel
import CrmsyncConfig
import Normalize
import Normalizers

/// Builds the pipeline stages from the configuration; a bad table or region is a config error.
enum Stages {
    static func normalize(_ configuration: CrmsyncConfiguration) throws -> NormalizeStage {
        let settings = configuration.normalize
        let tables: MappingTables
        let blocklist: IdentifierBlocklist
        do {
            tables = try MappingTables.load(path: settings.mappingsFile)
            blocklist = try IdentifierBlocklist.load(path: settings.blockedIdentifiersFile)
        } catch let error as MappingTableError {
            throw CLIFailure.configProblem("\(error)")
        }
        do {
            return try NormalizeStage(configuration: NormalizeConfiguration(
                defaultPhoneRegion: settings.defaultRegion,
                mappingTables: tables,
                blocklist: blocklist,
                maxMessageBytes: settings.maxMessageBytes
            ))
        } catch {
            throw CLIFailure.configProblem("\(configuration.origin): normalize.default_region: \(error.message)")
        }
    }

    /// The source a topic carries.
    static func sources(_ configuration: CrmsyncConfiguration) -> [String: Source] {
        [
            configuration.topic(.crm): .crm,
            configuration.topic(.map): .map,
            configuration.topic(.billing): .billing,
            configuration.topic(.product): .product,
        ]
    }
}
