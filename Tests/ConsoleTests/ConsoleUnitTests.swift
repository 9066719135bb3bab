@testable import Console
import CRMModel
import Dedup
import Store
import Foundation
import Testing

@Suite("Console: password hashes, forms, escaping of customer values")
struct ConsoleUnitTests {
    @Test("a hash verifies its password only; two hashes of one password differ (salt)")
    func passwordHash() throws {
        let hash = try PasswordHash.make(password: "correct horse")
        #expect(hash.hasPrefix("pbkdf2-sha256$210000$"))
        #expect(PasswordHash.verify(password: "correct horse", against: hash))
        #expect(!PasswordHash.verify(password: "correct horsE", against: hash))
        #expect(!PasswordHash.verify(password: "", against: hash))
        #expect(try PasswordHash.make(password: "correct horse") != hash)
        #expect(!PasswordHash.verify(password: "x", against: "pbkdf2-sha256$1$not-base64$"))
    }

    @Test("form bodies: + is a space, percent-escapes decode, a missing value is empty")
    func formBody() {
        let form = FormBody("name=Ana+Mar%C3%ADa&csrf=a%2Bb%3D&empty=&flag")
        #expect(form["name"] == "Ana María")
        #expect(form["csrf"] == "a+b=")
        #expect(form["empty"] == "")
        #expect(form["flag"] == "")
        #expect(form["missing"] == nil)
    }

    @Test("customer values are HTML-escaped on every page template")
    func escaping() throws {
        let library = try Templates.library()
        let evil = #"<script>alert("x")</script>"#
        let context: [String: Any] = [
            "signedIn": true, "userName": evil, "csrf": "t", "title": evil, "query": evil,
            "rows": [["field": evil, "cells": [["value": evil, "provenance": evil]]]],
            "columns": [["heading": evil, "reasons": [evil], "hasReasons": true]],
            "record": ["id": evil, "fields": [["name": evil, "value": evil, "owner": evil]], "audit": [["changes": [["before": evil, "after": evil]]]]],
            "sources": [["name": evil]], "alarms": [["detail": evil]], "hasAlarms": true,
        ]
        for template in ["queue", "request", "record", "health", "signin", "message"] {
            let html = try #require(library.render(context, withTemplate: template))
            #expect(!html.contains("<script>"), "\(template) renders a raw <script>")
            #expect(!html.contains("<script"), "\(template)")
        }
        let request = try #require(library.render(context, withTemplate: "request"))
        #expect(request.contains("&lt;script&gt;"))
    }

    @Test("the queue shows best score first: the view's score and subject come from the request")
    func queueRow() throws {
        let event = CanonicalEvent(eventID: "e1", source: .map, system: "hubspot", type: EventType(.contact, .upserted),
                                   occurredAt: Timestamp(epochMilliseconds: 0), externalID: "h1",
                                   fields: ["first_name": .string("Ana"), "last_name": .string("Ruiz"), "email": .string("ana@x.io")])
        let payload = try JSONEncoder().encode(NormalizedEvent(event: event, matchKeys: MatchKeys()))
        let request = ReviewRequest(id: "rv-1", goldenID: "c-1", kind: .identity, reason: "name_company_only", eventID: "e1", payload: payload,
                                    candidates: [ScoredCandidate(goldenID: "c-1", score: 0.87, tier: .nameCompany, reasons: ["same name"])],
                                    createdAt: Timestamp(epochMilliseconds: 0))
        let row = ReviewViews.row(request, now: Timestamp(epochMilliseconds: 7_200_000))
        #expect(row["subject"] as? String == "Ana Ruiz")
        #expect(row["score"] as? String == "0.87")
        #expect(row["source"] as? String == "map/hubspot")
        #expect(row["age"] as? String == "2 h ago")
    }
}
