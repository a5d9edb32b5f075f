//! Interface addresses from `ip -j addr`: which node holds the virtual IP.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::ParseError;

const WHAT: &str = "ip -j addr";

/// One network interface and the addresses configured on it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Interface {
    pub name: String,
    /// Operationally up. Loopback and tunnel devices report `UNKNOWN`; they count as up
    /// when their administrative `UP` flag is set.
    pub up: bool,
    /// The raw `operstate` (`UP`, `DOWN`, `UNKNOWN`, `LOWERLAYERDOWN`…).
    pub operstate: String,
    pub addresses: Vec<InterfaceAddress>,
}

/// One address as `ip` reports it (`local`/`prefixlen`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InterfaceAddress {
    pub address: IpAddr,
    pub prefix_len: u8,
    /// The IPv4 label (`eth0`, `eth0:vip`); IPv6 addresses have none.
    pub label: Option<String>,
}

#[derive(Deserialize)]
struct RawInterface {
    ifname: String,
    #[serde(default)]
    operstate: Option<String>,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    addr_info: Vec<RawAddress>,
}

// Every field is optional: with a family filter `ip` prints `{}` for the addresses it skips.
#[derive(Deserialize)]
struct RawAddress {
    #[serde(default)]
    local: Option<String>,
    #[serde(default)]
    prefixlen: Option<u8>,
    #[serde(default)]
    label: Option<String>,
}

/// Parses the JSON array printed by `ip -j addr` (iproute2).
pub fn parse_ip_addr(text: &str) -> Result<Vec<Interface>, ParseError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(ParseError::new(WHAT, "empty output"));
    }
    let raw: Vec<RawInterface> = serde_json::from_str(trimmed)
        .map_err(|error| ParseError::new(WHAT, format!("{error}: {}", first_line(trimmed))))?;
    raw.into_iter().map(interface_from_raw).collect()
}

fn interface_from_raw(raw: RawInterface) -> Result<Interface, ParseError> {
    let operstate = raw.operstate.unwrap_or_else(|| "UNKNOWN".to_owned());
    let up = operstate == "UP" || (operstate == "UNKNOWN" && raw.flags.iter().any(|f| f == "UP"));
    let mut addresses = Vec::new();
    for entry in raw.addr_info {
        let Some(local) = entry.local else { continue };
        let address: IpAddr = local.parse().map_err(|_| {
            ParseError::new(
                WHAT,
                format!("interface {}: bad address {local:?}", raw.ifname),
            )
        })?;
        let default_prefix = if address.is_ipv4() { 32 } else { 128 };
        addresses.push(InterfaceAddress {
            address,
            prefix_len: entry.prefixlen.unwrap_or(default_prefix),
            label: entry.label,
        });
    }
    Ok(Interface {
        name: raw.ifname,
        up,
        operstate,
        addresses,
    })
}

/// The name of the interface that carries `addr` (`"10.213.57.10"`; a `/prefix` suffix is
/// ignored), whatever its state: an address on a down link is still held, and still
/// conflicts with the other node's copy.
pub fn holds_address(ifaces: &[Interface], addr: &str) -> Option<String> {
    let wanted = addr.split('/').next().unwrap_or(addr).trim();
    let wanted: IpAddr = wanted.parse().ok()?;
    ifaces
        .iter()
        .find(|iface| iface.addresses.iter().any(|a| a.address == wanted))
        .map(|iface| iface.name.clone())
}

fn first_line(text: &str) -> &str {
    let line = text.lines().next().unwrap_or("");
    match line.char_indices().nth(120) {
        Some((index, _)) => &line[..index],
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WITH_VIP: &str = include_str!("../../fixtures/ip/with-vip.json");
    const WITHOUT_VIP: &str = include_str!("../../fixtures/ip/without-vip.json");
    const WITH_VIP_ETH0: &str = include_str!("../../fixtures/ip/with-vip-eth0.json");
    const TRUNCATED: &str = include_str!("../../fixtures/ip/truncated.json");
    const JUNK: &str = include_str!("../../fixtures/ip/junk.txt");

    fn parse(text: &str) -> Vec<Interface> {
        parse_ip_addr(text).expect("fixture parses")
    }

    #[test]
    fn node_holding_the_vip() {
        let ifaces = parse(WITH_VIP);
        assert_eq!(ifaces.len(), 2);
        let host0 = &ifaces[1];
        assert_eq!(host0.name, "host0");
        assert!(host0.up);
        assert_eq!(host0.addresses.len(), 2);
        assert_eq!(
            host0.addresses[1],
            InterfaceAddress {
                address: "10.213.57.10".parse().expect("ip"),
                prefix_len: 32,
                label: Some("host0".to_owned()),
            }
        );
        assert_eq!(host0.addresses[0].prefix_len, 28);
        assert_eq!(holds_address(&ifaces, "10.213.57.10"), Some("host0".into()));
        assert_eq!(
            holds_address(&ifaces, "10.213.57.10/32"),
            Some("host0".into())
        );
        assert_eq!(holds_address(&ifaces, "10.213.57.11"), Some("host0".into()));
    }

    #[test]
    fn node_without_the_vip() {
        let ifaces = parse(WITHOUT_VIP);
        assert_eq!(holds_address(&ifaces, "10.213.57.10"), None);
        assert_eq!(holds_address(&ifaces, "10.213.57.12"), Some("host0".into()));
    }

    #[test]
    fn loopback_unknown_operstate_counts_as_up() {
        let ifaces = parse(WITHOUT_VIP);
        assert_eq!(ifaces[0].name, "lo");
        assert_eq!(ifaces[0].operstate, "UNKNOWN");
        assert!(ifaces[0].up);
        assert_eq!(holds_address(&ifaces, "::1"), Some("lo".into()));
        assert_eq!(ifaces[0].addresses[1].label, None);
    }

    #[test]
    fn server_with_vip_on_eth0_and_a_down_link() {
        let ifaces = parse(WITH_VIP_ETH0);
        let names: Vec<&str> = ifaces.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["lo", "eth0", "eth1", "cni0"]);
        assert_eq!(holds_address(&ifaces, "10.20.246.103"), Some("eth0".into()));
        let eth1 = &ifaces[2];
        assert!(!eth1.up);
        assert_eq!(eth1.operstate, "DOWN");
        assert!(eth1.addresses.is_empty());
        assert_eq!(ifaces[1].addresses[2].prefix_len, 64);
    }

    #[test]
    fn garbage_address_to_look_for_is_never_held() {
        let ifaces = parse(WITH_VIP);
        assert_eq!(holds_address(&ifaces, "not-an-ip"), None);
        assert_eq!(holds_address(&[], "10.213.57.10"), None);
    }

    #[test]
    fn filtered_empty_address_objects_are_skipped() {
        let text = r#"[{"ifindex":2,"ifname":"host0","flags":["UP"],"operstate":"UP","addr_info":[{},{}]}]"#;
        let ifaces = parse(text);
        assert!(ifaces[0].addresses.is_empty());
    }

    #[test]
    fn truncated_output_is_an_error() {
        let error = parse_ip_addr(TRUNCATED).expect_err("truncated");
        assert_eq!(error.what, "ip -j addr");
        assert!(error.reason.contains("EOF"), "{}", error.reason);
    }

    #[test]
    fn junk_and_empty_output_are_errors() {
        let error = parse_ip_addr(JUNK).expect_err("junk");
        assert!(
            error.reason.contains("Object \"-j\" is unknown"),
            "{}",
            error.reason
        );
        assert_eq!(
            parse_ip_addr("  \n").expect_err("empty").reason,
            "empty output"
        );
        assert!(parse_ip_addr(r#"{"ifname":"eth0"}"#).is_err());
        let bad = r#"[{"ifname":"eth0","operstate":"UP","addr_info":[{"local":"10.0.0.999","prefixlen":24}]}]"#;
        assert!(parse_ip_addr(bad)
            .expect_err("bad address")
            .reason
            .contains("10.0.0.999"));
    }
}
