import Certification
import Foundation
import Testing
import TestSupport

/// Commands on the reference C plugin (`--backend plugin:PATH`): its memory is its own and its ops
/// run on its own queue, and generation still gives transformers' tokens, alone and with `--tp 2`.
@Suite struct PluginCLITests {
    func greedyTokens(_ arguments: [String], model name: String, environment: [String: String] = [:]) throws
        -> (tokens: [[Int32]], expected: [[Int32]], standardError: String)
    {
        let reference = try ModelReference.load(name)
        let prompts = reference.prompts.prefix(2)
        let outcome = try ProcessHarness.run(
            ["generate", "--model", Fixtures.model(name).path, "--max-tokens", "32", "--ignore-eos", "--json"] + arguments
                + prompts.flatMap { ["--prompt", $0.text] }, timeout: 120, environment: environment)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let tokens = try outcome.standardOutput.split(separator: "\n").map {
            try JSONDecoder().decode(GenerateCLITests.Line.self, from: Data($0.utf8)).tokenIDs
        }
        return (tokens, prompts.map(\.greedyTokenIDs), outcome.standardError)
    }

    @Test(arguments: Fixtures.pluginBackends, ["llama-gqa", "qwen2-bias", "mistral-mqa-f16", "llama-linear-bf16"])
    func generateGivesTransformersTokens(backend: String, model name: String) throws {
        let run = try greedyTokens(["--backend", backend], model: name)
        #expect(run.tokens == run.expected)
    }

    @Test(arguments: Fixtures.pluginBackends, ["llama-tp4", "qwen3-qknorm"])
    func tensorParallelRanksRunThePluginToo(backend: String, model name: String) throws {
        let run = try greedyTokens(["--backend", backend, "--tp", "2", "--tp-timeout", "60", "--threads", "1"], model: name)
        #expect(run.tokens == run.expected)
        // Each rank has its own device context; the reference plugin also has a communicator.
        let path = backend == Fixtures.referencePluginBackend ? "the device communicator" : "host sockets"
        #expect(run.standardError.contains("collectives through \(path)"), "\(run.standardError)")
        #expect(!run.standardError.contains("Error"), "a rank failed on shutdown: \(run.standardError)")
    }

    /// `$RADIXSERVE_BACKEND_PLUGIN` names the library for `--backend plugin`, and is the default
    /// backend when the command names none.
    @Test(arguments: [["--backend", "plugin"], []])
    func theEnvironmentVariableNamesThePlugin(arguments: [String]) throws {
        let run = try greedyTokens(
            arguments + ["--kv-memory", "4M"], model: "llama-gqa",
            environment: ["RADIXSERVE_BACKEND_PLUGIN": Fixtures.referencePlugin.path, "RADIXSERVE_REFERENCE_PLUGIN_MEMORY_MB": "64"])
        #expect(run.tokens == run.expected)
    }

    @Test(arguments: [
        (["--backend", "plugin:/nonexistent/libx.so"], [:], "backend plugin /nonexistent/libx.so does not exist"),
        (["--backend", Fixtures.referencePluginBackend], ["RADIXSERVE_REFERENCE_PLUGIN_MEMORY_MB": "lots"],
            "failed to initialise: init: RADIXSERVE_REFERENCE_PLUGIN_MEMORY_MB is \"lots\""),
        (["--backend", "plugin"], [:], "--backend plugin needs a library path"),
        (["--backend", "tpu"], [:], "unknown backend 'tpu'; available: cpu, reference, or plugin:PATH.so"),
    ] as [([String], [String: String], String)])
    func badPluginsFailBeforeAnythingRuns(arguments: [String], environment: [String: String], expected: String) throws {
        var environment = environment
        if environment["RADIXSERVE_BACKEND_PLUGIN"] == nil { environment["RADIXSERVE_BACKEND_PLUGIN"] = "" }
        for command in [["generate", "--prompt", "hi"], ["worker", "--router", "tcp://127.0.0.1:1"], ["up", "--workers", "1"]] {
            let outcome = try ProcessHarness.run(command + arguments, timeout: 60, environment: environment)
            #expect(outcome.status != 0)
            #expect(outcome.standardError.contains(expected), "\(command[0]): \(outcome.standardError)")
        }
    }

    /// The OpenCL plugin where it was built: no OpenCL platform names the packages to install; a
    /// device selection that matches nothing lists the devices there are.
    @Test(arguments: [
        (["OCL_ICD_VENDORS": "/nonexistent"], "no OpenCL platform found; install an OpenCL driver (ICD)"),
        (["RADIXSERVE_OPENCL_DEVICE": "no-such-device"], "RADIXSERVE_OPENCL_DEVICE is \"no-such-device\", which names no device"),
    ])
    func openCLDeviceProblemsAreNamed(environment: [String: String], expected: String) throws {
        guard let backend = Fixtures.openCLPluginBackend else { return }  // built only where OpenCL headers exist
        let outcome = try ProcessHarness.run(["generate", "--backend", backend, "--prompt", "hi"], timeout: 60, environment: environment)
        #expect(outcome.status != 0)
        #expect(outcome.standardError.contains(expected), "\(outcome.standardError)")
        if environment["OCL_ICD_VENDORS"] != nil { #expect(outcome.standardError.contains("pocl-opencl-icd")) }
    }

    /// `RADIXSERVE_OPENCL_PROFILE=1`: at exit, the time of each kernel (a prompt runs the tiled
    /// prefill attention, decode steps the split-K one), and the bytes and times of the copies.
    @Test func openCLProfileNamesKernelsAndTransfers() throws {
        guard let backend = Fixtures.openCLPluginBackend else { return }  // built only where OpenCL headers exist
        let outcome = try ProcessHarness.run(
            ["generate", "--backend", backend, "--model", Fixtures.model("llama-gqa").path, "--prompt", "Hello world, again",
             "--max-tokens", "4", "--ignore-eos"], timeout: 120, environment: ["RADIXSERVE_OPENCL_PROFILE": "1"])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        for expected in ["kernel times of backend", "attention_prefill_f32", "attention_partial_f32", "matmul_rows_f32",
            "step inputs", "transfer times: writes"] {
            #expect(outcome.standardError.contains(expected), "\(expected): \(outcome.standardError)")
        }
    }

    /// Too little device memory for the weights: the load fails naming the plugin's out-of-memory.
    @Test func deviceOutOfMemoryIsAnError() throws {
        let outcome = try ProcessHarness.run(
            ["generate", "--backend", Fixtures.referencePluginBackend, "--prompt", "hi"], timeout: 60,
            environment: ["RADIXSERVE_REFERENCE_PLUGIN_MEMORY_MB": "1"])
        #expect(outcome.status != 0)
        #expect(outcome.standardError.contains("RS_ERROR_OUT_OF_MEMORY"), "\(outcome.standardError)")
    }
}
