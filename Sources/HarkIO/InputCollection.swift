import Foundation

/// One audio input to process, and the name its outputs get.
public struct AudioInput: Equatable, Sendable {
    /// A file path, or `-` for standard input.
    public var path: String
    /// The output stem: the input's name without its extension, relative to
    /// the directory or manifest it came from (e.g. `fash/an251-fash-b`).
    public var name: String
    /// The transcript, when the input came from a manifest that has one.
    public var text: String?
}

/// The inputs of a batch command, expanded and named.
public struct InputCollection: Sendable {
    public var inputs: [AudioInput] = []
    /// Arguments that could not be expanded (a missing path, an empty
    /// directory, a bad manifest), with the reason.
    public var failures: [(input: String, message: String)] = []
    /// Renamings made so that no two inputs share an output name.
    public var notes: [String] = []

    /// Extensions searched for in directories: what libsndfile decodes.
    public static let audioExtensions: Set<String> = [
        "wav", "wave", "flac", "ogg", "oga", "opus", "aif", "aiff", "aifc", "sph", "nist",
        "au", "snd", "caf", "w64", "rf64", "voc", "mp3", "mat", "pvf", "xi", "htk", "sd2", "paf", "iff", "svx",
    ]

    /// Expands files, directories (recursively, sorted), manifests and `-`.
    public init(arguments: [String]) {
        let fm = FileManager.default
        for argument in arguments {
            if argument == "-" {
                inputs.append(AudioInput(path: "-", name: "stdin"))
                continue
            }
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                failures.append((argument, "no such file or directory"))
                continue
            }
            if isDirectory.boolValue {
                let found = Self.audioFiles(under: argument)
                if found.isEmpty {
                    failures.append((argument, "directory contains no audio files (looked for .\(Self.audioExtensions.sorted().prefix(6).joined(separator: ", .")), …)"))
                }
                for relative in found {
                    inputs.append(AudioInput(path: (argument as NSString).appendingPathComponent(relative),
                                             name: Self.stem(relative)))
                }
            } else if Manifest.isManifest(argument) {
                do {
                    let folder = ((argument as NSString).deletingLastPathComponent as NSString).standardizingPath
                    for entry in try Manifest.read(argument) {
                        let full = (entry.audioPath as NSString).standardizingPath
                        let relative = full.hasPrefix(folder + "/") ? String(full.dropFirst(folder.count + 1))
                                                                  : (full as NSString).lastPathComponent
                        inputs.append(AudioInput(path: entry.audioPath, name: Self.stem(relative), text: entry.text))
                    }
                } catch {
                    failures.append((argument, "\(error)"))
                }
            } else {
                inputs.append(AudioInput(path: argument, name: Self.stem((argument as NSString).lastPathComponent)))
            }
        }
        makeNamesUnique()
    }

    /// `dir/x.wav` → `dir/x`.
    static func stem(_ relative: String) -> String {
        (relative as NSString).deletingPathExtension
    }

    /// Audio files below `directory`, as sorted relative paths.
    public static func audioFiles(under directory: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var found: [String] = []
        while let item = walker.nextObject() as? String {
            if audioExtensions.contains((item as NSString).pathExtension.lowercased()) {
                var isDirectory: ObjCBool = false
                let full = (directory as NSString).appendingPathComponent(item)
                if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue {
                    found.append(item)
                }
            }
        }
        return found.sorted()
    }

    /// Inputs that would share an output name keep their extension
    /// (`x.wav` and `x.flac` → `x.wav.npy`, `x.flac.npy`); any that still
    /// clash get `-2`, `-3`, … in input order. Each renaming is noted.
    mutating func makeNamesUnique() {
        var counts: [String: Int] = [:]
        for input in inputs { counts[input.name, default: 0] += 1 }
        var used: Set<String> = []
        for i in inputs.indices {
            var name = inputs[i].name
            if counts[name, default: 0] > 1 {
                let ext = (inputs[i].path as NSString).pathExtension
                if !ext.isEmpty { name += "." + ext }
            }
            var candidate = name
            var n = 2
            while used.contains(candidate) {
                candidate = "\(name)-\(n)"
                n += 1
            }
            if candidate != inputs[i].name {
                notes.append("\(inputs[i].path): output named \"\(candidate)\" because another input is also named \"\(inputs[i].name)\"")
                inputs[i].name = candidate
            }
            used.insert(candidate)
        }
    }
}
