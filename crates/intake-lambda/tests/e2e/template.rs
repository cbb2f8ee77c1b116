//! `deploy/template.yaml` read as CloudFormation would: parameters at their defaults, conditions
//! evaluated, and the intrinsic functions (`!Ref`, `!GetAtt`, `!Sub`, `!If`, `!Join`, `!Equals`,
//! `!Or`, `!And`, `!Not`, `!Condition`) resolved against the resources the test created. What cannot
//! be resolved is an error naming it, so a template that grows a reference the emulation does not
//! create fails the test instead of being skipped.

use std::collections::HashMap;

use serde_json::{Map, Value as Json};
use serde_norway::Value as Yaml;

/// The emulated account and region (moto's defaults).
pub(crate) const ACCOUNT: &str = "123456789012";
pub(crate) const REGION: &str = "us-east-1";

/// The template with what the stack's resources resolve to.
pub(crate) struct Template {
    doc: Yaml,
    /// A created resource's `Ref`, by logical id.
    refs: HashMap<String, String>,
    /// A created resource's `Fn::GetAtt` attributes, by logical id and attribute.
    attributes: HashMap<(String, String), String>,
}

impl Template {
    /// `deploy/template.yaml` of this repository.
    pub(crate) fn load() -> Self {
        let path = format!("{}/../../deploy/template.yaml", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("deploy/template.yaml");
        Self {
            doc: serde_norway::from_str(&text).expect("the template is YAML"),
            refs: HashMap::new(),
            attributes: HashMap::new(),
        }
    }

    /// Records what a created resource's `Ref` and attributes are.
    pub(crate) fn created(
        &mut self,
        logical_id: &str,
        reference: &str,
        attributes: &[(&str, &str)],
    ) {
        self.refs
            .insert(logical_id.to_owned(), reference.to_owned());
        for (name, value) in attributes {
            self.attributes.insert(
                (logical_id.to_owned(), (*name).to_owned()),
                (*value).to_owned(),
            );
        }
    }

    /// The logical ids of the resources of `kind` whose condition holds, in template order.
    pub(crate) fn resources_of_type(&self, kind: &str) -> Vec<String> {
        self.doc["Resources"]
            .as_mapping()
            .expect("Resources")
            .iter()
            .filter(|(_, r)| r["Type"].as_str() == Some(kind))
            .filter(|(_, r)| {
                r["Condition"]
                    .as_str()
                    .is_none_or(|c| self.condition(c).expect("condition"))
            })
            .map(|(id, _)| id.as_str().expect("logical id").to_owned())
            .collect()
    }

    /// A resource's `Properties`, resolved (as JSON, with `AWS::NoValue` entries left out).
    pub(crate) fn properties(&self, logical_id: &str) -> Result<Json, String> {
        let resource = &self.doc["Resources"][logical_id];
        if resource.is_null() {
            return Err(format!("no resource {logical_id}"));
        }
        Ok(self.resolve(&resource["Properties"])?.unwrap_or(Json::Null))
    }

    /// One property of a resource, resolved (`Null` when absent): a function's other properties
    /// (policies, log groups) refer to what the emulation does not create.
    pub(crate) fn property(&self, logical_id: &str, name: &str) -> Result<Json, String> {
        let resource = &self.doc["Resources"][logical_id];
        if resource.is_null() {
            return Err(format!("no resource {logical_id}"));
        }
        Ok(self
            .resolve(&resource["Properties"][name])?
            .unwrap_or(Json::Null))
    }

    /// A raw (unresolved) part of the template, for what the test reads without resolving.
    pub(crate) fn raw(&self) -> &Yaml {
        &self.doc
    }

    /// One setting of the `Globals.Function` section, resolved (`Null` when absent).
    pub(crate) fn function_global(&self, name: &str) -> Result<Json, String> {
        Ok(self
            .resolve(&self.doc["Globals"]["Function"][name])?
            .unwrap_or(Json::Null))
    }

    /// Whether the named condition holds for the parameters' defaults.
    pub(crate) fn condition(&self, name: &str) -> Result<bool, String> {
        let expression = &self.doc["Conditions"][name];
        if expression.is_null() {
            return Err(format!("no condition {name}"));
        }
        match self.resolve(expression)? {
            Some(Json::Bool(holds)) => Ok(holds),
            other => Err(format!("condition {name} is not a boolean: {other:?}")),
        }
    }

    /// A parameter's default, as text.
    pub(crate) fn parameter_default(&self, name: &str) -> String {
        match self.parameter(name) {
            Some(Json::String(s)) => s,
            other => panic!("parameter {name}: {other:?}"),
        }
    }

    fn parameter(&self, name: &str) -> Option<Json> {
        let parameter = &self.doc["Parameters"][name];
        if parameter.is_null() {
            return None;
        }
        let default = match &parameter["Default"] {
            Yaml::String(s) => s.clone(),
            Yaml::Number(n) => n.to_string(),
            other => panic!("parameter {name} has no usable default: {other:?}"),
        };
        Some(
            if parameter["Type"].as_str() == Some("CommaDelimitedList") {
                Json::Array(
                    default
                        .split(',')
                        .map(|s| Json::String(s.to_owned()))
                        .collect(),
                )
            } else {
                Json::String(default)
            },
        )
    }

    fn reference(&self, name: &str) -> Result<Option<Json>, String> {
        let pseudo = match name {
            "AWS::NoValue" => return Ok(None),
            "AWS::AccountId" => Some(ACCOUNT),
            "AWS::Region" => Some(REGION),
            "AWS::Partition" => Some("aws"),
            "AWS::URLSuffix" => Some("amazonaws.com"),
            "AWS::StackName" => Some("intake"),
            _ => None,
        };
        if let Some(value) = pseudo {
            return Ok(Some(Json::String(value.to_owned())));
        }
        if let Some(value) = self.parameter(name) {
            return Ok(Some(value));
        }
        self.refs
            .get(name)
            .map(|r| Some(Json::String(r.clone())))
            .ok_or_else(|| format!("!Ref {name}: the emulation has no such resource"))
    }

    /// A created resource's attribute (`!GetAtt id.attribute`).
    pub(crate) fn attribute(&self, id: &str, attribute: &str) -> Result<String, String> {
        self.attributes
            .get(&(id.to_owned(), attribute.to_owned()))
            .cloned()
            .ok_or_else(|| format!("!GetAtt {id}.{attribute}: the emulation has no such attribute"))
    }

    fn substitute(&self, text: &str, variables: &Map<String, Json>) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("unclosed ${{ in {text:?}"))?;
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(value) = variables.get(name) {
                out.push_str(
                    value
                        .as_str()
                        .ok_or_else(|| format!("${{{name}}} is not a string"))?,
                );
            } else if let Some((id, attribute)) = name.split_once('.') {
                out.push_str(&self.attribute(id, attribute)?);
            } else {
                match self.reference(name)? {
                    Some(Json::String(s)) => out.push_str(&s),
                    other => return Err(format!("${{{name}}} is not a string: {other:?}")),
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// `value` with every intrinsic function resolved; `None` for `AWS::NoValue`.
    pub(crate) fn resolve(&self, value: &Yaml) -> Result<Option<Json>, String> {
        Ok(Some(match value {
            Yaml::Null => Json::Null,
            Yaml::Bool(b) => Json::Bool(*b),
            Yaml::Number(n) => serde_json::to_value(n).map_err(|e| e.to_string())?,
            Yaml::String(s) => Json::String(s.clone()),
            Yaml::Sequence(items) => {
                let mut out = Vec::new();
                for item in items {
                    if let Some(v) = self.resolve(item)? {
                        out.push(v);
                    }
                }
                Json::Array(out)
            }
            Yaml::Mapping(map) => {
                let mut out = Map::new();
                for (key, item) in map {
                    let key = key.as_str().ok_or("a non-string key")?.to_owned();
                    if let Some(v) = self.resolve(item)? {
                        out.insert(key, v);
                    }
                }
                Json::Object(out)
            }
            Yaml::Tagged(tagged) => {
                let tag = tagged.tag.to_string();
                return self.intrinsic(tag.trim_start_matches('!'), &tagged.value);
            }
        }))
    }

    fn resolved(&self, value: &Yaml) -> Result<Json, String> {
        self.resolve(value)?
            .ok_or_else(|| "AWS::NoValue where a value is needed".to_owned())
    }

    fn arguments(&self, value: &Yaml, function: &str) -> Result<Vec<Json>, String> {
        match self.resolved(value)? {
            Json::Array(items) => Ok(items),
            other => Err(format!("!{function} takes a list, not {other}")),
        }
    }

    fn intrinsic(&self, function: &str, argument: &Yaml) -> Result<Option<Json>, String> {
        let text = |v: &Json| {
            v.as_str()
                .map(str::to_owned)
                .ok_or(format!("!{function}: {v} is not a string"))
        };
        Ok(Some(match function {
            "Ref" => return self.reference(argument.as_str().ok_or("!Ref of a non-string")?),
            "Condition" => {
                Json::Bool(self.condition(argument.as_str().ok_or("!Condition of a non-string")?)?)
            }
            "GetAtt" => {
                let (id, attribute) = match argument {
                    Yaml::String(s) => s.split_once('.').map(|(a, b)| (a.to_owned(), b.to_owned())),
                    Yaml::Sequence(parts) => match parts.as_slice() {
                        [a, b] => a
                            .as_str()
                            .zip(b.as_str())
                            .map(|(a, b)| (a.to_owned(), b.to_owned())),
                        _ => None,
                    },
                    _ => None,
                }
                .ok_or_else(|| format!("malformed !GetAtt {argument:?}"))?;
                Json::String(self.attribute(&id, &attribute)?)
            }
            "Sub" => {
                match argument {
                    Yaml::String(s) => Json::String(self.substitute(s, &Map::new())?),
                    Yaml::Sequence(parts) => {
                        let [template, variables] = parts.as_slice() else {
                            return Err("!Sub takes a string or [string, variables]".into());
                        };
                        let Json::Object(variables) = self.resolved(variables)? else {
                            return Err("!Sub variables must be a mapping".into());
                        };
                        Json::String(self.substitute(
                            template.as_str().ok_or("!Sub of a non-string")?,
                            &variables,
                        )?)
                    }
                    _ => return Err("malformed !Sub".into()),
                }
            }
            "Join" => {
                let parts = self.arguments(argument, function)?;
                let [delimiter, Json::Array(items)] = parts.as_slice() else {
                    return Err("!Join takes [delimiter, list]".into());
                };
                let items: Result<Vec<String>, String> = items.iter().map(text).collect();
                Json::String(items?.join(&text(delimiter)?))
            }
            "Equals" => {
                let parts = self.arguments(argument, function)?;
                let [a, b] = parts.as_slice() else {
                    return Err("!Equals takes two values".into());
                };
                Json::Bool(a == b)
            }
            "Not" => match self.arguments(argument, function)?.as_slice() {
                [Json::Bool(b)] => Json::Bool(!b),
                other => return Err(format!("!Not of {other:?}")),
            },
            "Or" | "And" => {
                let values: Option<Vec<bool>> = self
                    .arguments(argument, function)?
                    .iter()
                    .map(Json::as_bool)
                    .collect();
                let values = values.ok_or_else(|| format!("!{function} of non-booleans"))?;
                Json::Bool(if function == "Or" {
                    values.iter().any(|b| *b)
                } else {
                    values.iter().all(|b| *b)
                })
            }
            "If" => {
                let Yaml::Sequence(parts) = argument else {
                    return Err("!If takes [condition, then, else]".into());
                };
                let [condition, then, otherwise] = parts.as_slice() else {
                    return Err("!If takes [condition, then, else]".into());
                };
                let holds =
                    self.condition(condition.as_str().ok_or("!If's condition is not a name")?)?;
                return self.resolve(if holds { then } else { otherwise });
            }
            other => return Err(format!("the emulation does not resolve !{other}")),
        }))
    }
}
