/// Everything about generated person `i`, derived from `i` alone.
///
/// Names are drawn from small tables but combined with the person's company so that two
/// people share first name, last name and company domain only rarely (the identity tier that
/// would make them a review request), as in real data.
struct Person: Sendable {
    let index: Int

    init(_ index: Int) { self.index = index }

    private static let firsts = ["Jane", "John", "Maria", "Wei", "Aisha", "Carlos", "Olga", "Kenji", "Priya", "Liam",
                                 "Emma", "Noah", "Sofia", "Mateo", "Chloe", "Ravi", "Fatima", "Lucas", "Mia", "Arjun",
                                 "Hana", "Omar", "Ines", "Tomas", "Zoe", "Ivan", "Leila", "Pablo", "Nora", "Sven",
                                 "Yuki", "Amir", "Clara", "Diego", "Eva", "Felix", "Grace", "Hugo", "Ida", "Jonas"]
    private static let lasts = ["Smith", "Garcia", "Chen", "Okafor", "Muller", "Rossi", "Kim", "Patel", "Nguyen", "Silva",
                                "Jones", "Brown", "Kowalski", "Haddad", "Ivanova", "Tanaka", "Dubois", "Larsen", "Costa", "Novak",
                                "Schmidt", "Moreau", "Sato", "Ali", "Khan", "Lopez", "Wright", "Fischer", "Bianchi", "Berg",
                                "Weber", "Fernandez", "Jensen", "Yilmaz", "Cohen", "Murphy", "Walsh", "Singh", "Ortiz", "Park",
                                "Hall", "Young", "King", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Ramos"]

    var first: String { Self.firsts[index % Self.firsts.count] }
    var last: String { Self.lasts[(index / Self.firsts.count) % Self.lasts.count] }
    /// Seven people per company.
    var company: Int { index / 7 }
    /// A registrable domain per company: subdomains of one (`coN.example-corp.com`) would all
    /// normalize to `example-corp.com` and make every namesake a colleague.
    var domain: String { Self.domain(ofCompany: company) }
    static func domain(ofCompany company: Int) -> String { "co\(company)-example.com" }
    /// One in five uses Gmail, the rest their company address; unique per person either way.
    var email: String {
        index % 5 == 0
            ? "\(first.lowercased()).\(last.lowercased())\(index)@gmail.com"
            : "\(first.lowercased()).\(last.lowercased()).\(index)@\(domain)"
    }
    /// The same mailbox written another way (Gmail dots and +tag; a +tag elsewhere is kept by the
    /// match key, so non-Gmail variants only change case).
    var emailVariant: String {
        index % 5 == 0
            ? "\(first.lowercased())\(last.lowercased())\(index)+signup@googlemail.com"
            : email.uppercased()
    }
    /// A unique, valid North American number: +1 212 NXX XXXX.
    var phone: String {
        let exchange = 200 + (index / 10_000) % 800
        let line = index % 10_000
        let padded = String(repeating: "0", count: 4 - String(line).count) + String(line)
        return "+1 212 \(exchange) \(padded)"
    }

    func title(_ sequence: Int) -> String {
        ["VP Engineering", "Head of Sales", "CTO", "Marketing Manager", "Account Executive", "Data Analyst"][(index + sequence) % 6]
    }

    /// The person's id in `system`.
    func externalID(_ system: String) -> String {
        switch system {
        case "salesforce": return "003B\(String(index, radix: 36))"
        case "hubspot": return "\(100_000 + index)"
        case "stripe": return "cus_B\(String(index, radix: 36))"
        default: return "u-\(index)"
        }
    }
}
