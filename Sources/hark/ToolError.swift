/// An error of the tool itself (not of one input); printed, exit status 1.
struct ToolError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
