import CRMModel

/// What identity resolution derives from one event alone, without the store: its crosswalk
/// references, the identifiers it contributes, its folded person name and the id a new record
/// would get. Pure: the pipeline computes it on the normalize lanes (``IdentityResolver/prepare(_:)``),
/// so the single writer only does the lookups (``IdentityResolver/resolve(_:lookup:)``).
public struct PreparedEvent: Sendable {
    /// The event as the normalize stage produced it.
    public let normalized: NormalizedEvent
    /// The identifiers the event contributes (``IdentityResolver/identifiers(of:)``), in tier order.
    public let keys: [IdentityKey]
    /// The id a record created from this event gets (``GoldenIDs/make(entity:reference:)``).
    public let proposedID: GoldenID
    /// The crosswalk key of the event's own record.
    let ownReference: ExternalReference
    /// The event's own reference, then its `merged_from` / `converted_from` references.
    let references: [ExternalReference]
    /// What the event says about the person, for conflict scoring.
    let evidence: CandidateEvidence
    /// The event seen as a record, so its own keys take part in conflict checks.
    let eventIdentity: RecordIdentity

    /// Derives everything from `normalized` (``IdentityResolver/prepare(_:)`` is the public way in).
    init(_ normalized: NormalizedEvent) {
        self.normalized = normalized
        let event = normalized.event
        let reference = normalized.externalReference
        ownReference = reference
        references = [reference] + normalized.absorbedReferences.filter { $0 != reference }
        proposedID = GoldenIDs.make(entity: event.entity, reference: reference)
        // Folded once: the person-name key and the scoring evidence are the same name.
        let name = IdentityResolver.personName(of: normalized)
        keys = IdentityResolver.identifiers(of: normalized, personName: name)
        let keySet = Set(keys)
        eventIdentity = RecordIdentity(id: "", keys: keySet, externalIDs: [reference.system: [reference.id]])
        var domain = normalized.matchKeys.companyDomain
        if domain == nil, let nameCompany = normalized.matchKeys.nameCompany {
            domain = nameCompany.split(separator: "|", omittingEmptySubsequences: false).last.map(String.init)
        }
        evidence = CandidateEvidence(name: name, companyDomain: domain, keys: keySet)
    }
}
