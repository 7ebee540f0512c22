//! `#[ordinance::test]`: a test with a database of its own, its handle and
//! its fixtures as arguments.
//!
//! Parsed with syn's default features (no `full`): the signature is read
//! piece by piece and the body kept as tokens.

use proc_macro2::{Delimiter, Ident, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned as _;
use syn::{Attribute, LitStr, ReturnType, Token, Type, Visibility};

/// Where the test database's tables come from.
enum Source {
    Auto,
    Entities,
    Migrations(LitStr),
}

impl Parse for Source {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Ok(Source::Auto);
        }
        let key: Ident = input.parse()?;
        let source = if key == "entities" {
            Source::Entities
        } else if key == "migrations" {
            input.parse::<Token![=]>()?;
            Source::Migrations(input.parse()?)
        } else {
            let near = match crate::naming::closest(&key.to_string(), &["entities", "migrations"]) {
                Some(near) => format!("did you mean `{near}`? "),
                None => String::new(),
            };
            return Err(syn::Error::new(
                key.span(),
                format_args!(
                    "expected `migrations = \"folder\"` or `entities`\n\
                     help: {near}without arguments the test uses `migrations/` when the crate has \
                     it, else every entity linked into the test"
                ),
            ));
        };
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the template"));
        }
        Ok(source)
    }
}

/// One argument of the test function.
struct Param {
    fixture: Option<TokenStream>,
    mutable: bool,
    name: Ident,
    ty: Type,
}

impl Parse for Param {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut fixture = None;
        for attr in Attribute::parse_outer(input)? {
            if attr.path().is_ident("fixture") {
                fixture = Some(attr.parse_args::<TokenStream>()?);
            } else {
                return Err(syn::Error::new(
                    attr.span(),
                    "only `#[fixture(...)]` goes on a test's argument",
                ));
            }
        }
        let mutable = input.parse::<Option<Token![mut]>>()?.is_some();
        let name = input.parse()?;
        input.parse::<Token![:]>()?;
        Ok(Param {
            fixture,
            mutable,
            name,
            ty: input.parse()?,
        })
    }
}

/// The test function, read without syn's `full` feature.
struct TestFn {
    attrs: Vec<Attribute>,
    vis: Visibility,
    asyncness: Option<Token![async]>,
    name: Ident,
    params: Vec<Param>,
    output: ReturnType,
    body: TokenTree,
}

impl Parse for TestFn {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = Attribute::parse_outer(input)?;
        let vis = input.parse()?;
        let asyncness = input.parse()?;
        input.parse::<Token![fn]>()?;
        let name: Ident = input.parse()?;
        if input.peek(Token![<]) {
            return Err(input.error("a test function takes no generic parameters"));
        }
        let content;
        syn::parenthesized!(content in input);
        let params = content.parse_terminated(Param::parse, Token![,])?;
        let output = input.parse()?;
        if input.peek(Token![where]) {
            return Err(input.error("a test function takes no `where` clause"));
        }
        let body: TokenTree = input.parse()?;
        if !matches!(&body, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace) {
            return Err(syn::Error::new(body.span(), "expected the function's body"));
        }
        Ok(TestFn {
            attrs,
            vis,
            asyncness,
            name,
            params: params.into_iter().collect(),
            output,
            body,
        })
    }
}

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    match try_expand(args, item) {
        Ok(tokens) => tokens,
        Err(e) => e.to_compile_error(),
    }
}

fn try_expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let test: TestFn = syn::parse2(item)?;
    // Past here an error keeps the function (as a plain one), so the only
    // message is the one that matters, not unused imports besides it.
    let checked = syn::parse2::<Source>(args).and_then(|source| check(&test).map(|()| source));
    match checked {
        Ok(source) => Ok(generate(&source, &test)),
        Err(e) => {
            let mut tokens = e.to_compile_error();
            tokens.extend(plain(&test));
            Ok(tokens)
        }
    }
}

/// The function as written, without the fixture attributes, never called.
fn plain(test: &TestFn) -> TokenStream {
    let TestFn {
        attrs,
        vis,
        asyncness,
        name,
        params,
        output,
        body,
    } = test;
    let declared = declared(params);
    quote! {
        #(#attrs)*
        #[allow(dead_code)]
        #vis #asyncness fn #name(#(#declared),*) #output #body
    }
}

/// The arguments as the function declares them, without the fixture
/// attributes.
fn declared(params: &[Param]) -> Vec<TokenStream> {
    params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (name, ty) = (&p.name, &p.ty);
            let mutability = p.mutable.then(|| quote!(mut));
            // A fixture a later one is built from may go unused in the body.
            let feeds_another = params[i + 1..]
                .iter()
                .filter_map(|later| later.fixture.clone())
                .any(|expr| mentions(expr, name));
            let allow = feeds_another.then(|| quote!(#[allow(unused_variables)]));
            quote!(#allow #mutability #name: #ty)
        })
        .collect()
}

fn check(test: &TestFn) -> syn::Result<()> {
    if test.asyncness.is_none() {
        return Err(syn::Error::new(
            test.name.span(),
            "`#[ordinance::test]` goes on an `async fn`\n\
             help: write `async fn` here; the test gets a runtime and a database of its own",
        ));
    }
    let mut handles = test.params.iter().filter(|p| p.fixture.is_none());
    if let Some(second) = handles.nth(1) {
        return Err(syn::Error::new(
            second.name.span(),
            "a test takes one database handle (`Connection`, `Pool`, `tokio_postgres::Config` \
             or `&TestDatabase`); every other argument is a `#[fixture(...)]`",
        ));
    }
    Ok(())
}

fn generate(source: &Source, test: &TestFn) -> TokenStream {
    let handles: Vec<&Param> = test.params.iter().filter(|p| p.fixture.is_none()).collect();

    let template = match source {
        Source::Auto => quote!(::ordinance::testing::Template::Auto),
        Source::Entities => quote!(::ordinance::testing::Template::Entities),
        Source::Migrations(dir) => quote!(::ordinance::testing::Template::Migrations(#dir)),
    };
    let db = Ident::new("__ordinance_db", Span::mixed_site());
    let seeder = Ident::new("__ordinance_seeder", Span::mixed_site());

    // Fixtures in the order written: a later one may use an earlier one.
    let fixtures: Vec<TokenStream> = test
        .params
        .iter()
        .filter_map(|p| {
            let expr = p.fixture.as_ref()?;
            let (name, ty) = (&p.name, &p.ty);
            let label = name.to_string();
            Some(quote_spanned! {ty.span()=>
                let #name: #ty = ::ordinance::__private::test_seed(&mut #seeder, #label, #expr).await;
            })
        })
        .collect();
    let seeding = (!fixtures.is_empty()).then(|| {
        quote! {
            let mut #seeder = ::ordinance::__private::test_seeder(#db).await;
            #(#fixtures)*
            ::core::mem::drop(#seeder);
        }
    });
    let handle = handles.first().map(|p| {
        let (name, ty) = (&p.name, &p.ty);
        if let Type::Reference(_) = ty {
            quote!(let #name: #ty = #db;)
        } else {
            quote_spanned! {ty.span()=>
                let #name: #ty = ::ordinance::__private::test_open::<#ty>(#db).await;
            }
        }
    });

    let TestFn {
        attrs,
        vis,
        name,
        params,
        output,
        body,
        ..
    } = test;
    let names: Vec<&Ident> = params.iter().map(|p| &p.name).collect();
    let declared = declared(params);
    quote! {
        #[::core::prelude::v1::test]
        #(#attrs)*
        #vis fn #name() #output {
            async fn #name(#(#declared),*) #output #body
            ::ordinance::__private::test_run(
                #template,
                ::core::env!("CARGO_MANIFEST_DIR"),
                async |#db: &::ordinance::testing::TestDatabase| {
                    #seeding
                    #handle
                    #name(#(#names),*).await
                },
            )
        }
    }
}

/// Whether `tokens` name `ident` anywhere, groups included.
fn mentions(tokens: TokenStream, ident: &Ident) -> bool {
    tokens.into_iter().any(|tree| match tree {
        TokenTree::Ident(i) => i == *ident,
        TokenTree::Group(g) => mentions(g.stream(), ident),
        _ => false,
    })
}
