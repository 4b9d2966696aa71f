/// A broker's ACCESS_REFUSED (403) on a channel after login, read as what the user lacks: which
/// of RabbitMQ's three permissions (configure, write, read) on which queue or exchange, for which
/// user and vhost. RabbitMQ 3.10 does not name the permission ("access to queue 'q' in vhost '/'
/// refused for user 'u'"), so it follows from the operation; later releases that name it are
/// taken at their word.
package struct AccessRefusal: Sendable, Equatable {
    package enum Permission: String, Sendable, Equatable, CaseIterable {
        case configure, write, read
    }

    /// The AMQP method that was refused ("queue.declare", "basic.publish", ...).
    package var operation: String
    package var permission: Permission?
    /// "queue" or "exchange".
    package var resourceKind: String
    package var resource: String
    package var vhost: String?
    package var user: String?

    /// Reads the broker's reason for a refused `operation`; nil when it is not an access refusal
    /// this understands.
    package init?(operation: String, brokerReason reason: String) {
        guard let access = reason.firstRange(of: "access to ") else { return nil }
        let after = reason[access.upperBound...]
        guard let space = after.firstIndex(of: " ") else { return nil }
        let kind = String(after[..<space])
        guard kind == "queue" || kind == "exchange", let name = Self.quoted(after[space...]) else { return nil }
        self.operation = operation
        self.resourceKind = kind
        self.resource = name
        self.vhost = reason.firstRange(of: "in vhost ").flatMap { Self.quoted(reason[$0.upperBound...]) }
        self.user = reason.firstRange(of: "for user ").flatMap { Self.quoted(reason[$0.upperBound...]) }
        let named = reason[..<access.lowerBound].split(separator: " ").last.flatMap { Permission(rawValue: String($0)) }
        self.permission = named ?? Self.permission(for: operation, on: kind)
    }

    /// The permission RabbitMQ checks for `operation` on a resource of `kind`.
    package static func permission(for operation: String, on kind: String) -> Permission? {
        switch operation {
        case "queue.declare", "exchange.declare", "queue.delete", "exchange.delete": return .configure
        case "basic.publish": return .write
        case "basic.consume", "basic.get", "queue.purge": return .read
        // A binding writes to the queue and reads from the exchange.
        case "queue.bind", "queue.unbind": return kind == "queue" ? .write : .read
        default: return nil
        }
    }

    /// The refusal in words (after the operation): who lacks which permission on which object.
    package var text: String {
        let who = user.map { "user '\($0)'" } ?? "this user"
        let whereText = vhost.map { " in vhost '\($0)'" } ?? ""
        guard let permission else { return "\(who) may not use \(resourceKind) '\(resource)'\(whereText)" }
        return "\(who) has no \(permission.rawValue) permission on \(resourceKind) '\(resource)'\(whereText)"
    }

    /// The first single-quoted string in `text`.
    private static func quoted(_ text: Substring) -> String? {
        guard let open = text.firstIndex(of: "'") else { return nil }
        let rest = text[text.index(after: open)...]
        guard let close = rest.firstIndex(of: "'") else { return nil }
        return String(rest[..<close])
    }
}
