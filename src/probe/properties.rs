//! Property tests: whatever a node prints, every parser of node output returns facts or an
//! error, and never panics (a compromised or broken node must not take pairctl down).

#![cfg(test)]

use super::{galera, gluster, ip, kube, node};
use proptest::prelude::*;

const DB: &str = "/var/lib/rancher/k3s/server/db/state.db";

/// Text near the shapes the parsers expect (JSON, XML, sections, wsrep lines), mutated,
/// besides plain arbitrary text: arbitrary strings alone rarely get past the first check.
fn near_shapes() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        "\"",
        ":",
        ",",
        "\n",
        "<",
        ">",
        "</",
        "/>",
        "=",
        " ",
        "\t",
        "\"items\"",
        "\"kind\"",
        "\"Node\"",
        "\"status\"",
        "\"conditions\"",
        "\"metadata\"",
        "\"ifname\"",
        "\"addr_info\"",
        "\"local\"",
        "\"prefixlen\"",
        "10.213.57.10",
        "32",
        "<cliOutput>",
        "<opRet>",
        "0",
        "-1",
        "<peerStatus>",
        "<peer>",
        "<connected>",
        "1",
        "<volStatus>",
        "<volumes>",
        "<volume>",
        "<volName>",
        "<node>",
        "<status>",
        "<healInfo>",
        "<bricks>",
        "<brick>",
        "<numberOfEntries>",
        "<?xml version=\"1.0\"?>",
        "\n@@pairctl:",
        "@@pairctl:ip\n",
        "@@pairctl-asked ",
        "@@pairctl:list\n",
        "@@pairctl:clock\n",
        "rc=0\n",
        "level  min_txid  max_txid  size  created\n",
        "{\"databases\":[{\"path\":\"/var/lib/rancher/k3s/server/db/state.db\",\"status\":\"replicating\",\"last_sync_at\":\"",
        "9999-12-31T23:59:59.999999999Z",
        "ffffffffffffffff",
        "wsrep_cluster_size",
        "wsrep_ready",
        "ON",
        "Synced",
        "Primary",
        "18446744073709551615",
        "é",
        "\u{1b}[2J",
        "\u{0}",
    ]);
    prop_oneof![
        ".{0,400}",
        prop::collection::vec(pieces, 0..120).prop_map(|v| v.concat()),
    ]
}

fn fixture_prefix() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        include_str!("../../fixtures/ip/with-vip.json"),
        include_str!("../../fixtures/ip/without-vip.json"),
    ])
    .prop_flat_map(|f| (0..f.len()).prop_map(move |n| f.get(..n).unwrap_or(f).to_string()))
}

fn answer() -> super::litestream::DaemonAnswer {
    super::litestream::DaemonAnswer {
        daemon: Err(crate::transport::ProbeError::failed(
            "not running (no control socket)",
        )),
        answered: false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn node_basics_never_panic(text in near_shapes(), cut in fixture_prefix(), junk in near_shapes()) {
        let _ = node::parse_basics(&text, "10.213.57.10", answer());
        let _ = super::litestream::parse_cli(&text, DB);
        let _ = super::litestream::parse_files(&text, &junk);
        let _ = super::litestream::parse_files("1.5\n", &format!("{junk}\n{cut}"));
        let _ = super::litestream::parse_list_response(text.as_bytes(), DB);
        let _ = super::litestream::parse_list_response(format!("HTTP/1.0 200 OK\r\n\r\n{junk}").as_bytes(), DB);
        let _ = super::litestream::parse_cli(&format!("\n@@pairctl:clock\n1.5\n@@pairctl:list\n{junk}\nrc=0\n@@pairctl:status\n{cut}"), DB);
        let _ = super::litestream::parse_cli(&format!("\n@@pairctl:clock\n{junk}\n@@pairctl:list\n{cut}\nrc=1\n@@pairctl:ltx\n{junk}\nrc=0\n"), DB);
        let _ = super::litestream::parse_restore(&text);
        let _ = super::litestream::parse_restore_record(&junk);
        let sections: Vec<(&str, &str)> = node::SECTIONS.iter().enumerate().map(|(i, name)| (*name, [cut.as_str(), junk.as_str(), ""][i % 3])).collect();
        let _ = node::parse_basics(&crate::transport::batch::printed(&sections), "10.213.57.10", answer());
        let _ = ip::parse_ip_addr(&text);
        let _ = ip::parse_ip_addr(&cut);
    }

    #[test]
    fn gluster_parsers_never_panic(text in near_shapes(), n in 0usize..6) {
        let _ = gluster::parse_peer_status(&text);
        let _ = gluster::parse_volume_status(&text);
        let _ = gluster::parse_heal_summary(&text);
        let _ = gluster::asked(&text);
        for answer in gluster::split_batch(&text, n) {
            let _ = gluster::parse_volume_status(&answer);
        }
    }

    #[test]
    fn kubectl_and_galera_parsers_never_panic(text in near_shapes(), rows in prop::collection::vec((near_shapes(), near_shapes()), 0..12)) {
        let _ = kube::parse_nodes(&text);
        let _ = kube::parse_workloads(&text);
        let _ = kube::parse_nodes_and_workloads(&text);
        let _ = kube::parse_pods(&text);
        let _ = galera::parse_wsrep_text(&text);
        let _ = galera::parse_wsrep_rows(&rows);
        let named: Vec<(String, String)> = rows
            .into_iter()
            .enumerate()
            .map(|(i, (_, v))| (["wsrep_cluster_size", "wsrep_ready", "wsrep_local_index", "wsrep_cluster_status"][i % 4].to_string(), v))
            .collect();
        let _ = galera::parse_wsrep_rows(&named);
    }

    #[test]
    fn deploy_check_sections_never_panic(text in near_shapes()) {
        let s = crate::deploy::remote::Sections::parse(&text.replace("@@pairctl:ip", "@@pairctl:units"));
        let _ = s.get("units").map(crate::deploy::remote::parse_units);
        let _ = crate::deploy::remote::parse_units(&text);
    }
}
