
/// A value delivered once, from any thread, to one awaiting task.
///
/// Bridges librdkafka's callbacks (which run on its threads) to `async` callers without a
/// task hop: the first ``fulfil(_:)`` wins, later ones are ignored.
final class OneShot<Value: Sendable>: Sendable {
    private enum State {
        case waiting(CheckedContinuation<Value, Never>?)
        case done(Value)
    }

    private let state = Locked(State.waiting(nil))

    func fulfil(_ value: Value) {
        let continuation: CheckedContinuation<Value, Never>? = state.withLock { state in
            guard case .waiting(let continuation) = state else { return nil }
            state = .done(value)
            return continuation
        }
        continuation?.resume(returning: value)
    }

    var value: Value {
        get async {
            await withCheckedContinuation { continuation in
                let ready: Value? = state.withLock { state in
                    switch state {
                    case .done(let value):
                        return value
                    case .waiting:
                        state = .waiting(continuation)
                        return nil
                    }
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}
