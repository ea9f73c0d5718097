//! Finding a product's bundle or release from its ID alone. The API addresses them under their
//! product and has no route by bare ID, so the product is found by asking each product the key
//! can see, a few at a time, until one has it.

use std::future::Future;

use futures_util::TryStreamExt;

use crate::api::{ProductListQuery, ProductState};
use crate::client::ApiClient;
use crate::error::{Error, ErrorKind, Result};

/// Lookups in flight at once: enough to be quick over many products, few enough to be polite.
const PARALLEL: usize = 8;

/// The object `id` as `get` (called with a client and a product ID) finds it in the first
/// product that has it. `noun` names the kind ("release") for the not-found error.
pub async fn find<T, Fut>(
    client: &ApiClient,
    noun: &str,
    id: &str,
    get: impl Fn(ApiClient, String) -> Fut,
) -> Result<T>
where
    Fut: Future<Output = Result<T>>,
{
    let query = ProductListQuery {
        state: Some(ProductState::All),
        ..Default::default()
    };
    let lookups = client
        .products()
        .list_up_to(query, None)
        .map_ok(|product| {
            let lookup = get(client.clone(), product.id.as_str().to_owned());
            async move {
                match lookup.await {
                    Ok(found) => Ok(Some(found)),
                    Err(err) if err.kind == ErrorKind::NotFound => Ok(None),
                    Err(err) => Err(err),
                }
            }
        })
        .try_buffer_unordered(PARALLEL);
    let mut lookups = std::pin::pin!(lookups);
    while let Some(found) = lookups.try_next().await? {
        if let Some(found) = found {
            return Ok(found);
        }
    }
    Err(
        Error::new(ErrorKind::NotFound, format!("no product has {noun} `{id}`")).hint(format!(
            "check the ID with `fleet {noun} list --product PRODUCT`"
        )),
    )
}

/// The error for a name given without `--product`: names are only unique within a product.
pub fn needs_product(noun: &str, reference: &str) -> Error {
    Error::usage(format!(
        "`{reference}` is not a {noun} ID, and a {noun} name needs --product"
    ))
    .hint(format!(
        "pass --product PRODUCT, or the {noun}'s ID (`fleet {noun} list --product PRODUCT -o id`)"
    ))
}
