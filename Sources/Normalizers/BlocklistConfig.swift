import ConfigFiles
import Foundation
import Yams

extension IdentifierBlocklist {
    /// Extends `base` (normally ``default``) with the lists of a YAML file such as
    /// `config/blocked-identifiers.yml`:
    /// ```yaml
    /// version: 1
    /// emails: [info@acme.com]          # whole addresses
    /// values: [pending]                # placeholder values of any identifier field
    /// email_local_parts: [sales]       # blocked at every domain
    /// email_domains: [acme.invalid]    # every address there (and at subdomains)
    /// phone_numbers: ["+18005550100"]  # E.164
    /// ```
    /// Every key is optional; an unknown key or a non-list value is an error naming file, key and line.
    public init(yaml: String, file: String, base: IdentifierBlocklist = .default) throws(MappingTableError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            let syntax = YAMLReader.describe(error)
            throw MappingTableError(file: file, keyPath: "", line: syntax.line, message: syntax.message)
        }
        guard let root else { self = base; return }
        guard let top = root.mapping else {
            throw MappingTableError(file: file, keyPath: "", line: root.mark?.line, message: "expected a mapping at the top level")
        }
        var lists: [String: [String]] = [:]
        for (keyNode, valueNode) in top {
            guard let key = keyNode.string else {
                throw MappingTableError(file: file, keyPath: "", line: keyNode.mark?.line, message: "expected a plain key")
            }
            switch key {
            case "version":
                guard valueNode.int == 1 else {
                    throw MappingTableError(file: file, keyPath: key, line: valueNode.mark?.line, message: "unsupported version; expected 1")
                }
            case "emails", "values", "email_local_parts", "email_domains", "phone_numbers":
                guard let sequence = valueNode.sequence else {
                    throw MappingTableError(file: file, keyPath: key, line: valueNode.mark?.line, message: "expected a list")
                }
                var items: [String] = []
                for item in sequence {
                    guard let text = item.string else {
                        throw MappingTableError(file: file, keyPath: key, line: item.mark?.line, message: "expected a plain value")
                    }
                    items.append(text)
                }
                lists[key] = items
            default:
                throw MappingTableError(file: file, keyPath: key, line: keyNode.mark?.line,
                                        message: "unknown key (expected emails, values, email_local_parts, email_domains, phone_numbers)")
            }
        }
        self = base
            .adding(emails: lists["emails"] ?? [], values: lists["values"] ?? [])
            .adding(emailLocalParts: lists["email_local_parts"] ?? [], emailDomains: lists["email_domains"] ?? [],
                    phoneNumbers: lists["phone_numbers"] ?? [])
    }

    /// ``default`` extended with the lists in the YAML file at `path`.
    public static func load(path: String) throws -> IdentifierBlocklist {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw MappingTableError(file: path, keyPath: "", line: nil, message: "cannot read: \(error.localizedDescription)")
        }
        return try IdentifierBlocklist(yaml: text, file: path)
    }
}
