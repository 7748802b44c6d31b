//! Data forms (XEP-0004), as much as xft needs: SI's stream-method negotiation
//! (XEP-0020, XEP-0095 §3.2) and the forms a disco#info answer carries (XEP-0128; HTTP
//! upload states its `max-file-size` in one, XEP-0363 §4).
//!
//! Reading is lenient where peers differ (docs/interop.md §1): a field's type is kept
//! as given, empty `<value/>`s are dropped, options may come without labels. Sizes are
//! bounded by the stanza they arrive in (the framer caps bytes and depth).

use crate::ns::DATA_FORMS_NS;
use crate::xml::Element;

/// XEP-0004 §3.1: what the form is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    /// A form to fill in.
    Form,
    /// A filled-in form.
    Submit,
    /// Data returned by a query (disco extensions).
    Result,
    Cancel,
}

impl FormKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FormKind::Form => "form",
            FormKind::Submit => "submit",
            FormKind::Result => "result",
            FormKind::Cancel => "cancel",
        }
    }

    fn parse(s: &str) -> Option<FormKind> {
        match s {
            "form" => Some(FormKind::Form),
            "submit" => Some(FormKind::Submit),
            "result" => Some(FormKind::Result),
            "cancel" => Some(FormKind::Cancel),
            _ => None,
        }
    }
}

/// XEP-0004 §3.2: one field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Field {
    pub var: String,
    /// `list-single`, `text-single`, `hidden`, ... as given (None when absent).
    pub kind: Option<String>,
    /// The non-empty `<value/>`s, in order.
    pub values: Vec<String>,
    /// The `<option><value/></option>` values, in order.
    pub options: Vec<String>,
}

impl Field {
    /// A field with one value.
    pub fn with_value(var: &str, value: &str) -> Field {
        Field {
            var: var.to_owned(),
            values: vec![value.to_owned()],
            ..Field::default()
        }
    }

    /// A `list-single` field offering `options`.
    pub fn list_single(var: &str, options: &[&str]) -> Field {
        Field {
            var: var.to_owned(),
            kind: Some("list-single".into()),
            options: options.iter().map(|o| (*o).to_owned()).collect(),
            ..Field::default()
        }
    }

    /// The first value.
    pub fn value(&self) -> Option<&str> {
        self.values.first().map(String::as_str)
    }

    fn from_element(el: &Element) -> Option<Field> {
        let var = el.get_attr("var")?.to_owned();
        let texts = |name: &str, parent: &Element| -> Vec<String> {
            parent
                .children()
                .filter(|c| c.is(name, DATA_FORMS_NS))
                .map(|v| v.text_content().trim().to_owned())
                .filter(|v| !v.is_empty())
                .collect()
        };
        let options = el
            .children()
            .filter(|c| c.is("option", DATA_FORMS_NS))
            .flat_map(|o| texts("value", o))
            .collect();
        Some(Field {
            var,
            kind: el.get_attr("type").map(str::to_owned),
            values: texts("value", el),
            options,
        })
    }

    fn to_element(&self) -> Element {
        let mut el = Element::new("field", DATA_FORMS_NS)
            .attr("var", self.var.as_str())
            .attr_opt("type", self.kind.as_deref());
        for option in &self.options {
            el.push_child(
                Element::new("option", DATA_FORMS_NS)
                    .child(Element::new("value", DATA_FORMS_NS).text(option.as_str())),
            );
        }
        for value in &self.values {
            el.push_child(Element::new("value", DATA_FORMS_NS).text(value.as_str()));
        }
        el
    }
}

/// XEP-0004 §3: a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub kind: FormKind,
    pub fields: Vec<Field>,
}

impl Form {
    pub fn new(kind: FormKind, fields: Vec<Field>) -> Form {
        Form { kind, fields }
    }

    /// Reads an `<x xmlns='jabber:x:data'/>`; a missing or unknown `type` reads as
    /// `form` (gloox and others are not always strict).
    pub fn from_element(el: &Element) -> Option<Form> {
        if !el.is("x", DATA_FORMS_NS) {
            return None;
        }
        let kind = el
            .get_attr("type")
            .and_then(FormKind::parse)
            .unwrap_or(FormKind::Form);
        let fields = el
            .children()
            .filter(|c| c.is("field", DATA_FORMS_NS))
            .filter_map(Field::from_element)
            .collect();
        Some(Form { kind, fields })
    }

    pub fn to_element(&self) -> Element {
        let mut el = Element::new("x", DATA_FORMS_NS).attr("type", self.kind.as_str());
        for field in &self.fields {
            el.push_child(field.to_element());
        }
        el
    }

    /// The first field named `var`.
    pub fn field(&self, var: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.var == var)
    }

    /// XEP-0068: the value of the hidden `FORM_TYPE` field, which names what the form
    /// is about (e.g. `urn:xmpp:http:upload:0`).
    pub fn form_type(&self) -> Option<&str> {
        self.field("FORM_TYPE").and_then(Field::value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse_document;

    /// XEP-0363 §4 Example 2: the upload service's disco#info extension form.
    #[test]
    fn reads_an_extension_form() {
        let x = parse_document(
            "<x type='result' xmlns='jabber:x:data'>
               <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:http:upload:0</value></field>
               <field var='max-file-size'><value>5242880</value></field>
             </x>",
        )
        .unwrap();
        let form = Form::from_element(&x).unwrap();
        assert_eq!(form.kind, FormKind::Result);
        assert_eq!(form.form_type(), Some("urn:xmpp:http:upload:0"));
        assert_eq!(
            form.field("max-file-size").and_then(Field::value),
            Some("5242880")
        );
        assert_eq!(Form::from_element(&form.to_element()), Some(form));
    }

    /// XEP-0020 as gloox writes it: an empty trailing value, no type on the form.
    #[test]
    fn is_lenient_with_empty_values_and_missing_types() {
        let x = parse_document(
            "<x xmlns='jabber:x:data'><field var='stream-method' type='list-multi'>
               <option><value>http://jabber.org/protocol/ibb</value></option><value/>
             </field></x>",
        )
        .unwrap();
        let form = Form::from_element(&x).unwrap();
        assert_eq!(form.kind, FormKind::Form);
        let field = form.field("stream-method").unwrap();
        assert_eq!(field.options, ["http://jabber.org/protocol/ibb"]);
        assert!(field.values.is_empty());
        assert_eq!(Form::from_element(&Element::new("x", "urn:other")), None);
    }
}
