//! The ledger side of batched steps: each committed batch's high-water mark is a
//! `batch_committed` record of the run, and a resumed step reads its own back.

use crate::error::Result;
use crate::ledger::{BatchCommitted, Entry, Ledger};
use crate::steps::BatchLedger;
use async_trait::async_trait;

pub(super) struct RunBatches<'a> {
    pub ledger: &'a Ledger,
    pub runbook: &'a str,
    pub run_id: &'a str,
}

#[async_trait]
impl BatchLedger for RunBatches<'_> {
    async fn record_batch(&self, step_id: &str, mark: &BatchCommitted) -> Result<()> {
        let entry: Entry = Entry::BatchCommitted(mark.clone());
        self.ledger
            .append_entry(self.runbook, self.run_id, Some(step_id), &entry)
            .await
            .map(|_| ())
    }

    async fn batches(&self, step_id: &str) -> Result<Vec<BatchCommitted>> {
        let records = self.ledger.run_records(self.runbook, self.run_id).await?;
        Ok(records
            .iter()
            .filter(|r| r.step_id.as_deref() == Some(step_id))
            .filter_map(|r| match r.entry() {
                Some(Entry::BatchCommitted(b)) => Some(b),
                _ => None,
            })
            .collect())
    }
}
