import CrmsyncConfig
import Foundation
import Kafka
import Logging
import Pipeline
import Store

/// One store per consumer group: the first `crmsync run` records the group and the Kafka
/// cluster id in the store; a run with another group or cluster is refused (exit 2, one line)
/// unless it passes `--adopt`.
enum StoreBindingCheck {
    static func check(store: SQLiteStore, configuration: CrmsyncConfiguration, adopt: Bool, logger: Logger) async throws -> StoreBinding {
        let clusterID: String
        do {
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(configuration.kafkaProperties), logger: logger)
            guard let id = await admin.clusterID() else {
                throw CLIFailure.kafka("\(configuration.brokers) did not report a cluster id (needed to bind the store to its cluster)")
            }
            clusterID = id
        } catch let failure as CLIFailure {
            throw failure
        } catch {
            throw CLIFailure.kafka("\(error)")
        }
        do {
            if let existing = try store.binding() {
                if existing.groupID == configuration.groupID, existing.clusterID == clusterID { return existing }
                guard adopt else {
                    throw CLIFailure.usage("the store \(configuration.store) belongs to consumer group \(existing.groupID) on cluster \(existing.clusterID); "
                        + "this run is group \(configuration.groupID) on cluster \(clusterID) (pass --adopt to move the store to them)")
                }
                logger.warning("store \(configuration.store) adopted: consumer group \(existing.groupID) → \(configuration.groupID), cluster \(existing.clusterID) → \(clusterID)")
            }
            let binding = try store.bind(groupID: configuration.groupID, clusterID: clusterID, at: Clock.system.now())
            logger.notice("store \(configuration.store) (id \(binding.storeID)) belongs to consumer group \(binding.groupID) on cluster \(binding.clusterID)")
            return binding
        } catch let error as StoreError {
            throw CLIFailure.store("\(error)")
        }
    }
}
