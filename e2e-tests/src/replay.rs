//! `--replay SESSION.yml`: answers the policy's requests from a kwctl session file, strictly in
//! order, with kwctl's errors for an unexpected request or an exhausted session.

use std::collections::VecDeque;
use std::io::Write as _;

use crate::callback_request::CallbackRequest;
use crate::host::KubernetesBackend;
use crate::session::{Exchange, Response};

/// The exchanges still to be replayed.
pub struct Replay {
    exchanges: VecDeque<Exchange>,
}

impl Replay {
    pub fn new(exchanges: Vec<Exchange>) -> Self {
        Self {
            exchanges: exchanges.into(),
        }
    }

    /// How many exchanges the policy has not consumed.
    pub fn leftovers(&self) -> usize {
        self.exchanges.len()
    }
}

impl KubernetesBackend for Replay {
    fn answer(&mut self, request: &CallbackRequest) -> Result<Vec<u8>, String> {
        let exchange = self
            .exchanges
            .pop_front()
            .ok_or_else(|| "the list of recorded responses is empty".to_string())?;
        let expected = CallbackRequest::from_session_yaml(&exchange.request)
            .map_err(|e| format!("Cannot deserialize recorded request into `CallbackRequestType`: {e}"))?;
        if &expected != request {
            return Err(format!(
                "Replay error: unexpected request. Was expecting {expected:?}, got {request:?} instead"
            ));
        }
        match exchange.response {
            Response::Success { payload } => Ok(payload.into_bytes()),
            Response::Error { message } => Err(message),
        }
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        if self.leftovers() > 0 {
            let _ = writeln!(
                std::io::stderr(),
                "warning: {} of the recorded exchanges have not been replayed",
                self.leftovers()
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn get(name: &str, masks: Option<&str>) -> CallbackRequest {
        CallbackRequest::KubernetesGetResource {
            api_version: "v1".into(),
            kind: "Secret".into(),
            name: name.into(),
            namespace: Some("demo".into()),
            disable_cache: false,
            field_masks: masks.map(|m| BTreeSet::from([m.to_string()])),
        }
    }

    fn exchange(request: &CallbackRequest, response: Response) -> Exchange {
        Exchange {
            request: request.to_session_yaml().unwrap(),
            response,
        }
    }

    #[test]
    fn replays_in_order() {
        let mut replay = Replay::new(vec![
            exchange(&get("a", None), Response::Success { payload: "A".into() }),
            exchange(&get("b", None), Response::Error { message: "boom".into() }),
        ]);
        assert_eq!(replay.answer(&get("a", None)).unwrap(), b"A");
        assert_eq!(replay.answer(&get("b", None)).unwrap_err(), "boom");
        assert_eq!(
            replay.answer(&get("a", None)).unwrap_err(),
            "the list of recorded responses is empty"
        );
    }

    #[test]
    fn field_masks_and_cache_flags_must_match_exactly() {
        let mut replay = Replay::new(vec![exchange(
            &get("a", Some("metadata.name")),
            Response::Success { payload: "A".into() },
        )]);
        let err = replay.answer(&get("a", None)).unwrap_err();
        assert_eq!(
            err,
            r#"Replay error: unexpected request. Was expecting KubernetesGetResource { api_version: "v1", kind: "Secret", name: "a", namespace: Some("demo"), disable_cache: false, field_masks: Some({"metadata.name"}) }, got KubernetesGetResource { api_version: "v1", kind: "Secret", name: "a", namespace: Some("demo"), disable_cache: false, field_masks: None } instead"#
        );
        assert_eq!(replay.leftovers(), 0, "a mismatch consumes the exchange, as in kwctl");

        let mut uncached = get("a", None);
        let CallbackRequest::KubernetesGetResource { disable_cache, .. } = &mut uncached;
        *disable_cache = true;
        let mut replay = Replay::new(vec![exchange(
            &get("a", None),
            Response::Success { payload: "A".into() },
        )]);
        assert!(
            replay
                .answer(&uncached)
                .unwrap_err()
                .starts_with("Replay error: unexpected request.")
        );
    }
}
