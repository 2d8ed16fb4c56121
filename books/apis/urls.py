"""The Books API's URLs, mounted at /books/v3/ by config/urls.py. Zoho's paths, no trailing slash.

Other apps add routes through books.extensions.register_api_route (the sync app adds the CRM import endpoints
`/crm/{account,contact,vendor,item}/{id}/import`); they come before the catch-all at the end, which answers
unknown URLs in the envelope."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path

from books import extensions
from books.apis import contacts, items, organizations, schema
from books.apis.routing import route
from books.apis.transactions import VIEWS

urlpatterns: list[URLPattern | URLResolver] = [
    path("schema/", schema.SchemaApi.as_view(), name="books-api-schema"),
    path("docs/", schema.DocsView.as_view(url_name="books-api-schema"), name="books-api-docs"),
    # organizations and users
    path("organizations", route(get=organizations.OrganizationListApi)),
    path("organizations/<str:organization_id>", route(get=organizations.OrganizationGetApi)),
    path("users", route(get=organizations.UserListApi)),
    path("users/me", route(get=organizations.UserMeApi)),
    path("users/<str:user_id>", route(get=organizations.UserGetApi)),
    # contact persons (before contacts/<id>, whose pattern would take "contactpersons" for an id)
    path("contacts/contactpersons", route(post=contacts.ContactPersonCreateApi)),
    path(
        "contacts/contactpersons/<str:contact_person_id>",
        route(put=contacts.ContactPersonUpdateApi, delete=contacts.ContactPersonDeleteApi),
    ),
    path("contacts/contactpersons/<str:contact_person_id>/primary", route(post=contacts.ContactPersonMarkPrimaryApi)),
    path("contacts/<str:contact_id>/contactpersons", route(get=contacts.ContactPersonListApi)),
    path("contacts/<str:contact_id>/contactpersons/<str:contact_person_id>", route(get=contacts.ContactPersonGetApi)),
    # contacts
    path("contacts", route(get=contacts.ContactListApi, post=contacts.ContactCreateApi)),
    path(
        "contacts/<str:contact_id>",
        route(get=contacts.ContactGetApi, put=contacts.ContactUpdateApi, delete=contacts.ContactDeleteApi),
    ),
    path("contacts/<str:contact_id>/active", route(post=contacts.ContactMarkActiveApi)),
    path("contacts/<str:contact_id>/inactive", route(post=contacts.ContactMarkInactiveApi)),
    # items
    path("items", route(get=items.ItemListApi, post=items.ItemCreateApi)),
    path("items/<str:item_id>", route(get=items.ItemGetApi, put=items.ItemUpdateApi, delete=items.ItemDeleteApi)),
    path("items/<str:item_id>/active", route(post=items.ItemMarkActiveApi)),
    path("items/<str:item_id>/inactive", route(post=items.ItemMarkInactiveApi)),
]

# estimates, salesorders, invoices, purchaseorders, expenses
for plural, views in VIEWS.items():
    singular = views["get"].resource.singular
    urlpatterns += [
        path(plural, route(get=views["list"], post=views["create"])),
        path(
            f"{plural}/<str:{singular}_id>",
            route(get=views["get"], put=views["update"], delete=views["delete"]),
        ),
    ]
    if "status" in views:
        urlpatterns.append(path(f"{plural}/<str:{singular}_id>/status/<str:state>", route(post=views["status"])))

urlpatterns += extensions.api_routes()
urlpatterns.append(re_path(r"^.*$", schema.UnknownUrlApi.as_view()))
