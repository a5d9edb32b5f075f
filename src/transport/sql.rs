//! Galera over SQL (mysql_async): one short-lived TCP connection per node per query round.

use crate::config::GaleraTls;
use crate::transport::ProbeError;
use mysql_async::prelude::Queryable;
use mysql_async::{ClientIdentity, Conn, OptsBuilder, SslOpts};
use std::net::IpAddr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct SqlTarget {
    pub name: String,
    pub address: IpAddr,
    pub port: u16,
    pub user: String,
    /// TLS verified against the configured CA (the server's certificate must name the
    /// node's address); with it set, a server without TLS is refused, never used in plain.
    pub tls: Option<GaleraTls>,
    /// Connect here instead: the loopback end of a tunnel through the node's SSH connection
    /// to its own MariaDB. TLS is still verified for `address`.
    pub via: Option<std::net::SocketAddr>,
}

fn ssl_opts(tls: &GaleraTls) -> SslOpts {
    let opts = SslOpts::default()
        .with_root_certs(vec![tls.ca_file.clone().into()])
        .with_disable_built_in_roots(true);
    match &tls.client {
        Some((cert, key)) => opts.with_client_identity(Some(ClientIdentity::new(
            cert.clone().into(),
            key.clone().into(),
        ))),
        None => opts,
    }
}

/// Connects (bounded: mysql_async has no connect timeout of its own, and a stopped server
/// never fails by itself) and runs `query`, returning its first two columns as strings.
pub async fn query_pairs(
    target: &SqlTarget,
    password: Option<&str>,
    query: &str,
    limit: Duration,
) -> Result<Vec<(String, String)>, ProbeError> {
    let (host, port) = match target.via {
        Some(via) => (via.ip().to_string(), via.port()),
        None => (target.address.to_string(), target.port),
    };
    let tls = target.tls.as_ref().map(|t| match target.via {
        // The certificate names the node, not the tunnel's loopback end.
        Some(_) => ssl_opts(t).with_danger_tls_hostname_override(Some(target.address.to_string())),
        None => ssl_opts(t),
    });
    let opts = OptsBuilder::default()
        .ip_or_hostname(host)
        .tcp_port(port)
        .user(Some(target.user.clone()))
        .pass(password.map(str::to_string))
        // After a TCP connect mysql_async would otherwise switch to the server's @@socket
        // path if it can open one locally: a different server on the same machine.
        .prefer_socket(false)
        .stmt_cache_size(0)
        .ssl_opts(tls);
    let run = async {
        let mut conn = Conn::new(opts)
            .await
            .map_err(|e| ProbeError::unreachable(format!("cannot connect: {e}")))?;
        let rows: Vec<(String, String)> = conn
            .query(query)
            .await
            .map_err(|e| ProbeError::failed(format!("query failed: {e}")))?;
        // A polite close costs a round trip; a dropped connection is closed by the server.
        tokio::spawn(async move {
            let _ = conn.disconnect().await;
        });
        Ok::<_, ProbeError>(rows)
    };
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(limit, run).await;
    tracing::debug!(node = %target.name, ms = started.elapsed().as_millis() as u64, "sql");
    match result {
        Ok(Ok(rows)) => Ok(rows),
        Ok(Err(e)) => Err(e.context(format_args!(
            "{}: MariaDB {}:{}{}",
            target.name,
            target.address,
            target.port,
            if target.via.is_some() {
                " (through SSH)"
            } else {
                ""
            }
        ))),
        Err(_) => Err(ProbeError::timed_out(format!(
            "{}: MariaDB {}:{} did not answer within {}",
            target.name,
            target.address,
            target.port,
            crate::format::human_duration(limit)
        ))),
    }
}
