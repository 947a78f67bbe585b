//! `--record OUT.yml`: wraps another backend and writes every exchange in kwctl's session
//! format, so that `kwctl run --replay-host-capabilities-interactions OUT.yml` replays it.

use std::io::Write as _;
use std::path::PathBuf;

use crate::callback_request::CallbackRequest;
use crate::host::KubernetesBackend;
use crate::session::{self, Exchange, Response};

/// A backend that records what the inner backend answers.
pub struct Recorder {
    inner: Box<dyn KubernetesBackend>,
    destination: PathBuf,
    exchanges: Vec<Exchange>,
}

impl Recorder {
    pub fn new(inner: Box<dyn KubernetesBackend>, destination: PathBuf) -> Self {
        Self {
            inner,
            destination,
            exchanges: Vec::new(),
        }
    }

    /// The exchanges recorded so far.
    pub fn exchanges(&self) -> &[Exchange] {
        &self.exchanges
    }
}

impl KubernetesBackend for Recorder {
    fn answer(&mut self, request: &CallbackRequest) -> Result<Vec<u8>, String> {
        let answer = self.inner.answer(request);
        let response = match &answer {
            Ok(payload) => Response::Success {
                payload: String::from_utf8_lossy(payload).into_owned(),
            },
            Err(message) => Response::Error {
                message: message.clone(),
            },
        };
        match request.to_session_yaml() {
            Ok(request) => self.exchanges.push(Exchange { request, response }),
            Err(e) => {
                let (api_version, kind) = request.resource_type();
                let _ = writeln!(
                    std::io::stderr(),
                    "warning: cannot record the lookup of {api_version}/{kind}: {e}"
                );
            }
        }
        answer
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        self.inner.finish()?;
        session::write(&self.destination, &self.exchanges)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Cluster;
    use crate::replay::Replay;

    #[test]
    fn a_recorded_session_replays_the_same_answers() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("session.yml");
        let cluster =
            Cluster::from_yaml("apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: demo}\n").unwrap();
        let mut recorder = Recorder::new(Box::new(cluster), out.clone());
        let found = CallbackRequest::KubernetesGetResource {
            api_version: "v1".into(),
            kind: "Secret".into(),
            name: "s".into(),
            namespace: Some("demo".into()),
            disable_cache: false,
            field_masks: None,
        };
        let missing = CallbackRequest::KubernetesGetResource {
            api_version: "v1".into(),
            kind: "Secret".into(),
            name: "t".into(),
            namespace: Some("demo".into()),
            disable_cache: false,
            field_masks: None,
        };
        let first = [recorder.answer(&found), recorder.answer(&missing)];
        recorder.finish().unwrap();

        let mut replay = Replay::new(session::read(&out).unwrap());
        assert_eq!([replay.answer(&found), replay.answer(&missing)], first);
        assert_eq!(replay.leftovers(), 0);
    }
}
