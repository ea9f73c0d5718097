//! The OpenAPI document, derived from the route registry ([`super::routes`]): each route's
//! operation comes from its handler's `#[utoipa::path]`, and the registry adds what follows
//! from how the route is served: who may call it, the `Idempotency-Key` header of writes, and
//! every error status its layers and extractors can answer.

use std::sync::OnceLock;

use axum::http::Method;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ArrayItems, Schema, SchemaType};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, RefOr, Required, ResponseBuilder, Type};
use utoipa::{Modify, OpenApi};

use super::domain::firmware::MAX_PARTS;
use super::pagination::SEEN_CURSOR_PATTERN;
use super::routes::{self, Access, Body};
use crate::api::firmware::{PART_CRC32C_HEADER, PART_SHA256_HEADER};
use crate::api::page::{DEFAULT_LIMIT, MAX_LIMIT, MIN_LIMIT};
use crate::api::{self, IDEMPOTENCY_KEY_HEADER};

#[derive(OpenApi)]
#[openapi(
    info(title = "fleet", description = "Products, cohorts and devices of embedded-device fleets."),
    components(schemas(api::ErrorBody, api::ErrorCode, api::FieldError, api::ProductState, api::DeviceSort)),
    modifiers(&BearerAuth),
    security(("api_key" = [])),
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Built once: the registry does not change while the service runs.
pub fn document() -> utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(build).clone()
}

fn build() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let components = doc.components.get_or_insert_with(Default::default);
    for mut route in routes::all() {
        components
            .schemas
            .extend(std::mem::take(&mut route.schemas));
        let (access, body) = (route.access, route.body);
        for (path, method, operation) in route.operations_mut() {
            describe(operation, path, &method, access, body);
            type_cursor(operation, &components.schemas);
        }
        doc.paths.merge(route.paths);
    }
    bound_binary_size(&mut components.schemas);
    doc
}

/// A binary is uploaded in at most [`MAX_PARTS`] parts, so its size is bounded by the part
/// size: the one `fleet server` uses (the library's default; only tests set another).
fn bound_binary_size(schemas: &mut Schemas) {
    let Some(RefOr::T(Schema::Object(create))) = schemas.get_mut("CreateBinary") else {
        return;
    };
    if let Some(RefOr::T(Schema::Object(size))) = create.properties.get_mut("size") {
        let max = MAX_PARTS.saturating_mul(super::DEFAULT_PART_SIZE_BYTES);
        size.maximum = Some(utoipa::Number::UInt(
            usize::try_from(max).unwrap_or(usize::MAX),
        ));
        size.description = Some(format!(
            "Bytes; at most {MAX_PARTS} parts of the service's part size ({} bytes)",
            super::DEFAULT_PART_SIZE_BYTES
        ));
    }
}

/// Adds to `operation` what its registration says about it.
fn describe(operation: &mut Operation, path: &str, method: &Method, access: Access, body: Body) {
    let public = access == Access::Public;
    if public {
        // An empty requirement: no key needed.
        operation.security = Some(vec![SecurityRequirement::default()]);
    }
    for parameter in operation.parameters.iter_mut().flatten() {
        refine(parameter);
    }
    let write = matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let idempotent_step = !public && write && body != Body::Stream;
    if idempotent_step {
        operation
            .parameters
            .get_or_insert_with(Vec::new)
            .push(idempotency_key());
    }
    for (status, description) in errors(operation, path, public, write, idempotent_step, body) {
        let content = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorBody")))
            .build();
        let response = ResponseBuilder::new()
            .description(description)
            .content("application/json", content)
            .build();
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert(response.into());
    }
}

/// Every error status the route can answer, with why.
fn errors(
    operation: &Operation,
    path: &str,
    public: bool,
    write: bool,
    idempotent_step: bool,
    body: Body,
) -> Vec<(u16, &'static str)> {
    let params = operation.parameters.as_deref().unwrap_or_default();
    let has = |place: ParameterIn| params.iter().any(|p| p.parameter_in == place);
    let has_body = operation.request_body.is_some();
    let json_body = has_body && body != Body::Stream;
    let path_params = path.contains('{');
    let if_match = params.iter().any(|p| p.name == "If-Match");
    let mut errors = Vec::new();
    if path_params || has(ParameterIn::Query) || has(ParameterIn::Header) || has_body {
        errors.push((
            400,
            "The request could not be parsed (query, header, path or body)",
        ));
    }
    if !public {
        errors.push((401, "Missing, unknown, expired or revoked API key"));
        errors.push((
            403,
            "The API key's role or product scope does not allow this",
        ));
    }
    if path_params || has_body || has(ParameterIn::Query) {
        errors.push((
            404,
            "A resource named in the path, query or body does not exist",
        ));
    }
    if write {
        errors.push((409, "Conflicts with the current state, or a request with the same Idempotency-Key is in progress"));
    }
    if if_match {
        errors.push((412, "The If-Match revision is not the current one"));
    }
    if json_body || idempotent_step || body == Body::Stream {
        errors.push((413, "The request body is larger than the limit"));
    }
    if json_body {
        errors.push((415, "The request body is not JSON"));
    }
    if json_body || has(ParameterIn::Query) || idempotent_step || body == Body::Stream {
        errors.push((
            422,
            "The request is invalid; `fields` says which field and why",
        ));
    }
    if !public {
        errors.push((
            429,
            "Too many failed authentication attempts from this address",
        ));
    }
    errors.push((500, "The service failed; the request may be retried"));
    if write {
        errors.push((
            507,
            "The service's disk is full; nothing was stored. Retrying will not help until space is freed",
        ));
    }
    errors
}

/// Declares the formats the service enforces on parameters every route shares by name.
fn refine(parameter: &mut Parameter) {
    let schema = match (&parameter.parameter_in, parameter.name.as_str()) {
        (ParameterIn::Query, "limit") => {
            parameter.description = Some(format!(
                "Page size, {MIN_LIMIT}–{MAX_LIMIT}; {DEFAULT_LIMIT} when absent"
            ));
            ObjectBuilder::new()
                .schema_type(SchemaType::new(Type::Integer))
                .minimum(Some(MIN_LIMIT))
                .maximum(Some(MAX_LIMIT))
        }
        // A revision in quotes, weak or not, or `*` (any revision).
        (ParameterIn::Header, "If-Match") => ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .pattern(Some(r#"^(\*|(W/)?"[+-]?[0-9]{1,18}")$"#)),
        (ParameterIn::Header, name) if name == PART_SHA256_HEADER => ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .pattern(Some("^[0-9a-fA-F]{64}$")),
        (ParameterIn::Header, name) if name == PART_CRC32C_HEADER => ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .pattern(Some("^[0-9a-fA-F]{8}$")),
        (ParameterIn::Query, _) => return require_value(parameter),
        _ => return,
    };
    parameter.schema = Some(schema.build().into());
}

/// The service refuses a query parameter given with an empty value (`?product=`), so every
/// inline string parameter, and the items of a repeated one, says `minLength: 1`.
fn require_value(parameter: &mut Parameter) {
    let Some(RefOr::T(schema)) = parameter.schema.as_mut() else {
        return;
    };
    let target = match schema {
        Schema::Array(array) => match &mut array.items {
            ArrayItems::RefOrSchema(items) => match items.as_mut() {
                RefOr::T(items) => items,
                RefOr::Ref(_) => return,
            },
            ArrayItems::False => return,
        },
        other => other,
    };
    if let Schema::Object(object) = target {
        if object.schema_type == SchemaType::new(Type::String) && object.min_length.is_none() {
            object.min_length = Some(1);
        }
    }
}

/// A list's `cursor` is the ID of the last item of the previous page, and the service accepts
/// any well-formed ID of the listed type there: the parameter takes the schema of the items'
/// `id`, found through the page schema of the 200 response. A list with a `sort` parameter
/// also takes the cursor of its other order ([`SEEN_CURSOR_PATTERN`]).
fn type_cursor(operation: &mut Operation, schemas: &Schemas) {
    let Some(id) = listed_id_schema(operation, schemas) else {
        return;
    };
    let sorted = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Query && p.name == "sort");
    for parameter in operation.parameters.iter_mut().flatten() {
        if parameter.parameter_in == ParameterIn::Query && parameter.name == "cursor" {
            if sorted {
                parameter.description = Some(
                    "The `next_cursor` of the previous page, in the same `sort`: by `id`, the ID \
                     of its last item; by `last_seen`, `SEEN.ID` (that item's last check-in in \
                     nanoseconds since the Unix epoch, or `never`, a dot, and its ID); the page \
                     starts after that item"
                        .to_owned(),
                );
                let seen = ObjectBuilder::new()
                    .schema_type(SchemaType::new(Type::String))
                    .pattern(Some(SEEN_CURSOR_PATTERN));
                parameter.schema = Some(
                    utoipa::openapi::schema::OneOfBuilder::new()
                        .item(id.clone())
                        .item(seen)
                        .into(),
                );
            } else {
                parameter.description = Some(
                    "The `next_cursor` of the previous page: the ID of its last item; the page \
                     starts after that ID"
                        .to_owned(),
                );
                parameter.schema = Some(id.clone());
            }
        }
    }
}

type Schemas = std::collections::BTreeMap<String, RefOr<Schema>>;

/// The schema of `data[].id` in the operation's 200 response, when that is a page of items.
fn listed_id_schema(operation: &Operation, schemas: &Schemas) -> Option<RefOr<Schema>> {
    let RefOr::T(response) = operation.responses.responses.get("200")? else {
        return None;
    };
    let page = response.content.get("application/json")?.schema.as_ref()?;
    let Schema::Object(page) = resolve(page, schemas)? else {
        return None;
    };
    let RefOr::T(Schema::Array(data)) = page.properties.get("data")? else {
        return None;
    };
    let ArrayItems::RefOrSchema(item) = &data.items else {
        return None;
    };
    let Schema::Object(item) = resolve(item, schemas)? else {
        return None;
    };
    item.properties.get("id").cloned()
}

/// Follows a reference into the document's component schemas.
fn resolve<'a>(schema: &'a RefOr<Schema>, schemas: &'a Schemas) -> Option<&'a Schema> {
    match schema {
        RefOr::T(schema) => Some(schema),
        RefOr::Ref(reference) => {
            let name = reference
                .ref_location
                .strip_prefix("#/components/schemas/")?;
            match schemas.get(name)? {
                RefOr::T(schema) => Some(schema),
                RefOr::Ref(_) => None,
            }
        }
    }
}

/// The optional `Idempotency-Key` header every write behind the idempotency step accepts.
fn idempotency_key() -> Parameter {
    let schema = ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .min_length(Some(1))
        .max_length(Some(255))
        // Visible ASCII, no surrounding blanks: what the service keeps as the key.
        .pattern(Some("^[!-~]([ -~]*[!-~])?$"))
        .build();
    ParameterBuilder::new()
        .name(IDEMPOTENCY_KEY_HEADER)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes a retry safe: a repeat with the same key, method, path and body gets the \
             first response again (kept for 24 hours)",
        ))
        .schema(Some(schema))
        .build()
}
