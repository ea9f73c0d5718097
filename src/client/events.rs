//! `/v1/events`: the audit log, read-only.

use futures_util::Stream;

use super::{ApiClient, paging};
use crate::api::{Event, EventListQuery};
use crate::error::Result;

pub struct Events<'a> {
    client: &'a ApiClient,
}

impl<'a> Events<'a> {
    pub(super) fn new(client: &'a ApiClient) -> Self {
        Events { client }
    }

    /// Matching events, oldest first, stopping once more than `max` arrived.
    pub fn list_up_to(
        &self,
        query: EventListQuery,
        max: Option<u64>,
    ) -> impl Stream<Item = Result<Event>> + use<> {
        paging::stream(self.client.clone(), vec!["events".into()], query, max)
    }
}
