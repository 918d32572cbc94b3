import Foundation

/// Rotary position embedding settings and their inverse frequencies, computed in f32 exactly as
/// transformers' `modeling_rope_utils` does for the `default`, `linear` and `llama3` types.
public struct RopeParameters: Sendable, Hashable {
    public enum Scaling: Sendable, Hashable {
        case none
        case linear(factor: Double)
        case llama3(factor: Double, lowFrequencyFactor: Double, highFrequencyFactor: Double, originalMaxPositions: Double)
    }

    public var theta: Double
    public var scaling: Scaling
    /// Multiplies cos and sin (1 for the supported types).
    public var attentionFactor: Float
    /// `headDim / 2` frequencies.
    public var inverseFrequencies: [Float]

    /// Reads `rope_parameters` (transformers ≥ 5) or `rope_theta` + `rope_scaling` (older files).
    init(json: [String: Any], headDim: Int, path: String) throws {
        let parameters = json["rope_parameters"] as? [String: Any]
        let legacy = json["rope_scaling"] as? [String: Any]
        let theta = (parameters?["rope_theta"] as? NSNumber)?.doubleValue
            ?? (json["rope_theta"] as? NSNumber)?.doubleValue ?? 10_000
        let settings = parameters ?? legacy ?? [:]
        let type = (settings["rope_type"] as? String) ?? (settings["type"] as? String) ?? "default"
        func number(_ key: String) throws -> Double {
            guard let value = (settings[key] as? NSNumber)?.doubleValue else {
                throw ModelError(.invalidConfig, "\(path): rope scaling '\(type)' needs a numeric '\(key)'")
            }
            return value
        }
        if let partial = (settings["partial_rotary_factor"] as? NSNumber)?.doubleValue, partial != 1 {
            throw ModelError(.invalidConfig, "\(path): partial_rotary_factor \(partial) is not supported")
        }
        switch type {
        case "default": scaling = .none
        case "linear": scaling = .linear(factor: try number("factor"))
        case "llama3":
            scaling = .llama3(
                factor: try number("factor"), lowFrequencyFactor: try number("low_freq_factor"),
                highFrequencyFactor: try number("high_freq_factor"),
                originalMaxPositions: try number("original_max_position_embeddings"))
        default:
            throw ModelError(.invalidConfig, "\(path): rope type '\(type)' is not supported (default, linear, llama3)")
        }
        self.theta = theta
        self.attentionFactor = 1
        self.inverseFrequencies = Self.frequencies(theta: theta, headDim: headDim, scaling: scaling)
    }

    static func frequencies(theta: Double, headDim: Int, scaling: Scaling) -> [Float] {
        let base = Float(theta)
        let defaults: [Float] = stride(from: 0, to: headDim, by: 2).map { i in
            1 / powf(base, Float(i) / Float(headDim))
        }
        switch scaling {
        case .none:
            return defaults
        case .linear(let factor):
            return defaults.map { $0 / Float(factor) }
        case .llama3(let factor, let low, let high, let original):
            let lowWavelength = Float(original / low)
            let highWavelength = Float(original / high)
            return defaults.map { frequency in
                let wavelength = 2 * Float.pi / frequency
                let scaled = wavelength > lowWavelength ? frequency / Float(factor) : frequency
                let isMedium = !(wavelength < highWavelength) && !(wavelength > lowWavelength)
                guard isMedium else { return scaled }
                let smooth = (Float(original) / wavelength - Float(low)) / Float(high - low)
                return (1 - smooth) * scaled / Float(factor) + smooth * scaled
            }
        }
    }
}
