//! Collects every error of one derive so that all of them are reported in a
//! single compile, the way serde_derive's `Ctxt` does.

use std::cell::RefCell;
use std::fmt::Display;

use quote::ToTokens;

/// Error collector handed to every parsing and checking stage.
///
/// It must be consumed with [`Ctxt::check`]; dropping it unchecked is a bug in
/// the macro and panics so the bug is found in the macro's own tests.
pub(crate) struct Ctxt {
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Ctxt {
    pub(crate) fn new() -> Self {
        Ctxt {
            errors: RefCell::new(Some(Vec::new())),
        }
    }

    /// Records an error at the span of `tokens`.
    pub(crate) fn error_spanned_by<T: ToTokens, M: Display>(&self, tokens: T, message: M) {
        self.syn_error(syn::Error::new_spanned(tokens.into_token_stream(), message));
    }

    /// Records an error at `tokens` with a `help:` line saying what to write instead.
    pub(crate) fn error_with_help<T: ToTokens, M: Display, H: Display>(
        &self,
        tokens: T,
        message: M,
        help: H,
    ) {
        self.error_spanned_by(tokens, format_args!("{message}\nhelp: {help}"));
    }

    /// Records an error produced by syn.
    pub(crate) fn syn_error(&self, err: syn::Error) {
        self.errors
            .borrow_mut()
            .as_mut()
            .expect("Ctxt used after check")
            .push(err);
    }

    /// Consumes the collector, combining every recorded error into one.
    pub(crate) fn check(self) -> syn::Result<()> {
        let mut errors = self
            .errors
            .borrow_mut()
            .take()
            .expect("Ctxt checked twice")
            .into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for rest in errors {
            combined.combine(rest);
        }
        Err(combined)
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.errors.borrow().is_some() {
            panic!("forgot to check for errors");
        }
    }
}
