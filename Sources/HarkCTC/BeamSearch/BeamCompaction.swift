import Foundation
import HarkCore

extension BeamSearchState {
    /// Drops the prefixes and emissions the beam no longer needs.
    ///
    /// Prefix tree: a new prefix is always a beam entry's extension, so the
    /// only nodes that can ever be reached again lie on paths from one entry
    /// down to another; those are kept (all ancestors of entries no shallower
    /// than the shallowest entry), with their links between them.
    ///
    /// Emissions: the links reachable from the entries' heads are kept; the
    /// links every entry's chain passes through before its head (which no
    /// later frame can change) are moved to `shared`.
    mutating func compact() {
        // The tree: mark the nodes kept, number them in their old order.
        let shallowest = beam.map { nodes[$0.node].depth }.min() ?? 0
        var newId = [Int32](repeating: -1, count: nodes.count)
        for e in beam {
            var n = e.node
            while n >= 0 && nodes[n].depth >= shallowest && newId[n] < 0 { newId[n] = 0; n = Int(nodes[n].parent) }
        }
        // In place (new numbers never exceed old ones), keeping the array's capacity.
        var kept = 0
        for old in newId.indices where newId[old] >= 0 {
            newId[old] = Int32(kept)
            var node = nodes[old]
            node.parent = node.parent >= 0 ? newId[Int(node.parent)] : -1
            nodes[kept] = node
            kept += 1
        }
        nodes.removeLast(nodes.count - kept)
        children.removeAll()
        for (n, node) in nodes.enumerated() where node.parent >= 0 { children.insert(Int(node.parent), Int(node.token), child: n) }
        for i in beam.indices { beam[i].node = Int(newId[beam[i].node]) }

        // The scorer states the kept nodes use (an entry's is its node's).
        var newState = [Int32](repeating: -1, count: scorerStates.count)
        for node in nodes where node.state >= 0 { newState[Int(node.state)] = 0 }
        scorerStates.compact(&newState)
        for n in nodes.indices where nodes[n].state >= 0 { nodes[n].state = newState[Int(nodes[n].state)] }
        for i in beam.indices { beam[i].state = Int(newState[beam[i].state]) }

        // The chain: the latest link that every entry's head has strictly before it.
        let heads = beam.map(\.emission)
        var common = -1
        if !heads.contains(-1) {
            var front = Set(heads.map { chain[$0].previous })
            while front.count > 1, !front.contains(-1) {
                let deepest = front.max { chain[$0].depth < chain[$1].depth }!
                front.remove(deepest)
                front.insert(chain[deepest].previous)
            }
            if front.count == 1, let only = front.first { common = only }
        }
        if common >= 0 {
            var run: [DecodedToken] = []
            var i = common
            while i >= 0 { run.append(chain[i].decoded); i = chain[i].previous }
            shared.append(contentsOf: run.reversed())
        }
        var newLink = [Int32](repeating: -1, count: chain.count)
        for h in heads {
            var i = h
            while i >= 0 && i != common && newLink[i] < 0 { newLink[i] = 0; i = chain[i].previous }
        }
        // In place, as the tree: a link's previous one comes before it.
        var keptLinks = 0
        for old in newLink.indices where newLink[old] >= 0 {
            newLink[old] = Int32(keptLinks)
            var link = chain[old]
            link.previous = link.previous < 0 || link.previous == common ? -1 : Int(newLink[link.previous])
            chain[keptLinks] = link
            keptLinks += 1
        }
        chain.removeLast(chain.count - keptLinks)
        for i in beam.indices where beam[i].emission >= 0 { beam[i].emission = Int(newLink[beam[i].emission]) }
    }
}
