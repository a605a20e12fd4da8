//! model.onnx cut down to some of its outputs, for ONNX Runtime: it runs every node of the
//! graph it was given whichever outputs a run asks for (tract drops unneeded nodes when it
//! optimizes), so a backbone-only session needs a graph without the exported head.

use std::collections::HashSet;

use prost::Message;
use tract_onnx::pb;

/// `proto` encoded with only `outputs` as its outputs and only the nodes and initializers
/// they depend on; its inputs stay as they were (an input nothing reads any more is still
/// fed, and ignored).
pub(crate) fn encoded_with_outputs(proto: &pb::ModelProto, outputs: &[&str]) -> Vec<u8> {
    let mut cut = proto.clone();
    if let Some(graph) = cut.graph.as_mut() {
        keep_outputs(graph, outputs);
    }
    cut.encode_to_vec()
}

/// Drops from `graph` every output not in `outputs`, then every node and initializer
/// that no kept output depends on.
fn keep_outputs(graph: &mut pb::GraphProto, outputs: &[&str]) {
    graph.output.retain(|o| outputs.contains(&o.name.as_str()));
    // Walk back from the kept outputs; nodes are listed in topological order.
    let mut needed: HashSet<String> = graph.output.iter().map(|o| o.name.clone()).collect();
    let mut keep = vec![false; graph.node.len()];
    for (k, node) in graph.node.iter().enumerate().rev() {
        if node.output.iter().any(|o| needed.contains(o)) {
            keep[k] = true;
            needed.extend(node.input.iter().filter(|i| !i.is_empty()).cloned());
        }
    }
    let mut kept = keep.iter();
    graph
        .node
        .retain(|_| *kept.next().expect("one flag per node"));
    graph.initializer.retain(|t| needed.contains(&t.name));
    graph.value_info.retain(|v| needed.contains(&v.name));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::OUTPUT_NAMES;
    use crate::package::ModelPackage;

    fn reference() -> ModelPackage {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/reference");
        ModelPackage::load(&dir).expect("reference package loads")
    }

    #[test]
    fn the_backbone_keeps_its_outputs_inputs_and_nothing_of_the_head() {
        let pkg = reference();
        let whole = pkg.onnx_proto();
        let bytes = encoded_with_outputs(whole, &OUTPUT_NAMES[1..]);
        let cut = pb::ModelProto::decode(bytes.as_slice()).expect("decodes");
        let (graph, whole) = (cut.graph.unwrap(), whole.graph.as_ref().unwrap());
        let names = |v: &[pb::ValueInfoProto]| v.iter().map(|o| o.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&graph.output), OUTPUT_NAMES[1..]);
        assert_eq!(names(&graph.input), names(&whole.input));
        assert!(graph.node.len() < whole.node.len());
        assert!(graph.node.iter().all(|n| !n.name.starts_with("/head/")));
        assert!(whole.node.iter().any(|n| n.name.starts_with("/head/")));
        // Every input a kept node reads is made by a kept node, an initializer or an input.
        let mut made: HashSet<&str> = graph.input.iter().map(|i| i.name.as_str()).collect();
        made.extend(graph.initializer.iter().map(|t| t.name.as_str()));
        for node in &graph.node {
            for input in node.input.iter().filter(|i| !i.is_empty()) {
                assert!(made.contains(input.as_str()), "{} reads {input}", node.name);
            }
            made.extend(node.output.iter().map(String::as_str));
        }
    }

    #[test]
    fn asking_for_every_output_keeps_the_graph_whole() {
        let pkg = reference();
        let whole = pkg.onnx_proto();
        let bytes = encoded_with_outputs(whole, &OUTPUT_NAMES);
        let cut = pb::ModelProto::decode(bytes.as_slice()).expect("decodes");
        assert_eq!(
            cut.graph.as_ref().unwrap().node.len(),
            whole.graph.as_ref().unwrap().node.len()
        );
        assert_eq!(
            cut.graph.unwrap().initializer.len(),
            whole.graph.as_ref().unwrap().initializer.len()
        );
    }
}
