import Foundation
import Models
import Testing
import TestSupport

/// Where commands look for the demo model when no `--model` is given.
@Suite struct BundledModelTests {
    @Test func findsTheDemoModelFromTheEnvironmentTheCurrentDirectoryOrTheExecutable() throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let demo = root.appendingPathComponent("models/demo")
        try FileManager.default.createDirectory(at: demo, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: demo.appendingPathComponent("config.json"))
        let elsewhere = root.appendingPathComponent("elsewhere").path
        let executable = root.appendingPathComponent(".build/debug/radixserve").path

        #expect(BundledModel.locate(environment: ["RADIXSERVE_MODEL": "/m"], currentDirectory: root.path, executable: executable) == "/m")
        #expect(BundledModel.locate(environment: [:], currentDirectory: root.path, executable: "/usr/bin/radixserve") == demo.path)
        #expect(BundledModel.locate(environment: [:], currentDirectory: elsewhere, executable: executable) == demo.path)
        #expect(
            BundledModel.locate(environment: ["RADIXSERVE_MODEL": ""], currentDirectory: elsewhere, executable: "/usr/bin/radixserve")
                == elsewhere + "/models/demo", "with none found, the one under the current directory")
    }

    @Test func aMissingModelIsNamed() {
        #expect(BundledModel.problem(model: FileManager.default.temporaryDirectory.path) == nil)
        #expect(BundledModel.problem(model: "/nonexistent/model") == "--model '/nonexistent/model' does not exist")
    }
}
