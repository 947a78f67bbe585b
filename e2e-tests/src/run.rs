//! One evaluation end to end, as `kwctl run` performs it: instantiate, check the protocol,
//! validate the settings (an error when invalid), validate the request, close the host.

use anyhow::{Result, bail};
use serde_json::Value;

use crate::engine::PolicyModule;
use crate::host::{Host, KubernetesBackend, PolicyLog};
use crate::metadata::AllowList;
use crate::policy::{Evaluation, Policy};
use crate::request::AdmissionRequest;

/// A compiled policy and the resources it may read; evaluates requests.
#[derive(Clone)]
pub struct Runner {
    module: PolicyModule,
    allow_list: AllowList,
    echo: bool,
}

/// What one evaluation produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub evaluation: Evaluation,
    /// The log lines the policy emitted.
    pub logs: Vec<PolicyLog>,
    /// The guest's linear memory after the evaluation, in bytes (its peak: it never shrinks).
    pub guest_memory: u64,
}

impl Runner {
    pub fn new(module: PolicyModule, allow_list: AllowList) -> Self {
        Self {
            module,
            allow_list,
            echo: false,
        }
    }

    /// Echo the policy's log lines and output on stderr while it runs.
    pub fn echo(mut self, echo: bool) -> Self {
        self.echo = echo;
        self
    }

    /// A fresh instance of the policy whose host calls `backend` answers, for callers that
    /// drive the waPC functions themselves.
    pub fn instantiate(&self, backend: Box<dyn KubernetesBackend>) -> Result<Policy> {
        let host = Host::new(backend, self.allow_list.clone()).echo_logs(self.echo);
        let mut instance = self.module.instantiate(host)?;
        instance.echo_output(self.echo);
        Ok(Policy::new(instance))
    }

    /// Evaluates `request` with `settings`, answering host calls with `backend`.
    pub fn evaluate(
        &self,
        backend: Box<dyn KubernetesBackend>,
        request: &AdmissionRequest,
        settings: &Value,
    ) -> Result<Outcome> {
        let mut policy = self.instantiate(backend)?;
        policy.protocol_version()?;
        let settings_validation = policy.validate_settings(settings);
        if !settings_validation.valid {
            bail!(
                "Provided settings are not valid: {}",
                settings_validation.message.unwrap_or_default()
            );
        }
        let evaluation = policy.validate(request, settings);
        let guest_memory = policy.instance().memory_size();
        let host = policy.instance_mut().host_mut();
        host.finish()?;
        Ok(Outcome {
            evaluation,
            logs: host.logs().to_vec(),
            guest_memory,
        })
    }
}
