//! Full exchanges (bodies and headers), recorded on request so that tests can check what
//! went over the wire against the services' documents. Off by default: a benchmark must
//! not hold every body in memory.

use serde_json::Value;

use super::http::Request;
use super::serve::Reply;

/// One request and the answer that reached the client.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Exchange {
    /// HTTP method.
    pub method: String,
    /// Concrete path.
    pub path: String,
    /// Query string, if any.
    pub query: Option<String>,
    /// Request headers, names lower-cased; the `authorization` value is redacted to its
    /// scheme.
    pub request_headers: Vec<(String, String)>,
    /// Request body: JSON when it parses, else the text as a JSON string.
    pub request_body: Option<Value>,
    /// Status answered.
    pub status: u16,
    /// Response headers the sandbox set, plus `content-type` when there is a body.
    pub response_headers: Vec<(String, String)>,
    /// Response body.
    pub response_body: Option<Value>,
}

impl Exchange {
    pub(crate) fn new(request: &Request, reply: &Reply) -> Self {
        let request_headers = request
            .headers
            .iter()
            .map(|(name, value)| {
                let name = name.as_str().to_ascii_lowercase();
                let value = value.to_str().unwrap_or_default();
                let value = if name == "authorization" {
                    format!("{} [REDACTED]", value.split(' ').next().unwrap_or_default())
                } else {
                    value.to_owned()
                };
                (name, value)
            })
            .collect();
        let request_body = (!request.body.is_empty()).then(|| {
            serde_json::from_slice(&request.body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&request.body).into_owned()))
        });
        let mut response_headers: Vec<(String, String)> = reply
            .headers
            .iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
            .collect();
        if reply.body.is_some() {
            response_headers.push(("content-type".to_owned(), reply.content_type.to_owned()));
        }
        Exchange {
            method: request.method.as_str().to_owned(),
            path: request.url.path().to_owned(),
            query: request.url.query().map(str::to_owned),
            request_headers,
            request_body,
            status: reply.status,
            response_headers,
            response_body: reply.body.clone(),
        }
    }

    /// A request header's value.
    pub fn request_header(&self, name: &str) -> Option<&str> {
        header(&self.request_headers, name)
    }

    /// A response header's value.
    pub fn response_header(&self, name: &str) -> Option<&str> {
        header(&self.response_headers, name)
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}
