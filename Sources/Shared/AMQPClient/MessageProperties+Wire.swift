internal import CRabbitMQ
import Core

extension MessageProperties {
    /// Copies what rabbitmq-c decoded (the strings live in its buffers only until the next read).
    init(_ p: amqp_basic_properties_t) {
        func has(_ flag: Int32) -> Bool { p._flags & amqp_flags_t(flag) != 0 }
        func text(_ flag: Int32, _ bytes: amqp_bytes_t) -> String? { has(flag) ? AMQPBytes.string(bytes) : nil }
        self.init(
            contentType: text(AMQP_BASIC_CONTENT_TYPE_FLAG, p.content_type),
            contentEncoding: text(AMQP_BASIC_CONTENT_ENCODING_FLAG, p.content_encoding),
            correlationID: text(AMQP_BASIC_CORRELATION_ID_FLAG, p.correlation_id),
            replyTo: text(AMQP_BASIC_REPLY_TO_FLAG, p.reply_to),
            expiration: text(AMQP_BASIC_EXPIRATION_FLAG, p.expiration),
            messageID: text(AMQP_BASIC_MESSAGE_ID_FLAG, p.message_id),
            timestamp: has(AMQP_BASIC_TIMESTAMP_FLAG) ? p.timestamp : nil,
            type: text(AMQP_BASIC_TYPE_FLAG, p.type),
            userID: text(AMQP_BASIC_USER_ID_FLAG, p.user_id),
            appID: text(AMQP_BASIC_APP_ID_FLAG, p.app_id),
            priority: has(AMQP_BASIC_PRIORITY_FLAG) ? p.priority : nil,
            encodedHeaders: has(AMQP_BASIC_HEADERS_FLAG) ? AMQPTable.encode(p.headers) : nil)
    }

    /// Calls `body` with these properties set in `properties`; the strings live for the call.
    func apply<R>(to properties: inout amqp_basic_properties_t, _ body: (inout amqp_basic_properties_t) -> R) -> R {
        var owned: [amqp_bytes_t] = []
        defer { owned.forEach { amqp_bytes_free($0) } }
        func set(_ value: String?, _ flag: Int32, _ field: WritableKeyPath<amqp_basic_properties_t, amqp_bytes_t>) {
            guard let value else { return }
            let bytes = AMQPBytes.copy(value)
            owned.append(bytes)
            properties[keyPath: field] = bytes
            properties._flags |= amqp_flags_t(flag)
        }
        set(contentType, AMQP_BASIC_CONTENT_TYPE_FLAG, \.content_type)
        set(contentEncoding, AMQP_BASIC_CONTENT_ENCODING_FLAG, \.content_encoding)
        set(correlationID, AMQP_BASIC_CORRELATION_ID_FLAG, \.correlation_id)
        set(replyTo, AMQP_BASIC_REPLY_TO_FLAG, \.reply_to)
        set(expiration, AMQP_BASIC_EXPIRATION_FLAG, \.expiration)
        set(messageID, AMQP_BASIC_MESSAGE_ID_FLAG, \.message_id)
        set(type, AMQP_BASIC_TYPE_FLAG, \.type)
        set(userID, AMQP_BASIC_USER_ID_FLAG, \.user_id)
        set(appID, AMQP_BASIC_APP_ID_FLAG, \.app_id)
        if let timestamp {
            properties.timestamp = timestamp
            properties._flags |= amqp_flags_t(AMQP_BASIC_TIMESTAMP_FLAG)
        }
        if let priority {
            properties.priority = priority
            properties._flags |= amqp_flags_t(AMQP_BASIC_PRIORITY_FLAG)
        }
        return body(&properties)
    }
}
