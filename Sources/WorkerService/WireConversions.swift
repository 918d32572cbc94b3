// RadixServe: conversions between engine values and router ⇄ worker wire values.

import Engine
import Scheduling
import ServingTypes
import WireProtocol

extension RequestFinish {
    package init(requestID: RequestID, reason: FinishReason, usage: EngineUsage) {
        self.init(
            requestID: requestID.rawValue, reason: reason,
            promptTokens: UInt32(clamping: usage.promptTokenCount),
            completionTokens: UInt32(clamping: usage.completionTokenCount),
            cachedTokens: UInt32(clamping: usage.cachedTokenCount))
    }
}
