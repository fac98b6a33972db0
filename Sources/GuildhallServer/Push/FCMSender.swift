import AsyncHTTPClient
import Foundation
import JWTKit
import Logging
import NIOCore
import NIOHTTP1
import PluginAPI

/// Sends messages through Firebase Cloud Messaging's HTTP v1 API with a service account: it signs an RS256
/// assertion with the account's key, trades it for an access token at the token endpoint (kept until shortly
/// before it expires) and posts each message to `projects/<id>/messages:send`.
actor FCMSender {
    /// What became of one message.
    enum Outcome: Sendable, Equatable {
        case sent
        /// FCM says the token no longer belongs to an installed app: forget it.
        case tokenGone
        case failed(String)
    }

    struct Account: Sendable {
        var projectID: String
        var clientEmail: String
        var privateKey: String
        var tokenURL: String
    }

    private struct Assertion: JWTPayload {
        var iss: IssuerClaim
        var scope: String
        var aud: AudienceClaim
        var iat: IssuedAtClaim
        var exp: ExpirationClaim
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    private let account: Account
    private let settings: PushSettings
    private let http: HTTPClient
    private let keys: JWTKeyCollection
    private var accessToken: (value: String, renewAfter: Date)?

    /// A sender for the configured account; nil when `push` has no credentials. Throws when they are unusable.
    static func make(settings: PushSettings, http: HTTPClient) async throws -> FCMSender? {
        guard let account = try account(from: settings) else { return nil }
        let keys = JWTKeyCollection()
        do {
            await keys.add(rsa: try Insecure.RSA.PrivateKey(pem: account.privateKey), digestAlgorithm: .sha256)
        } catch {
            throw PushConfigurationError("push: the service account's private_key is not an RSA key in PEM (\(error))")
        }
        return FCMSender(account: account, settings: settings, http: http, keys: keys)
    }

    private init(account: Account, settings: PushSettings, http: HTTPClient, keys: JWTKeyCollection) {
        self.account = account
        self.settings = settings
        self.http = http
        self.keys = keys
    }

    /// The account from the key file, or from the section's own keys; nil when neither is given.
    static func account(from settings: PushSettings) throws -> Account? {
        if !settings.serviceAccountFile.isEmpty {
            guard let data = FileManager.default.contents(atPath: settings.serviceAccountFile),
                case .object(let file)? = try? JSONValue(parsing: data)
            else {
                throw PushConfigurationError("push.service_account_file: \(settings.serviceAccountFile) is not a readable JSON key file")
            }
            guard let project = file["project_id"]?.stringValue, let email = file["client_email"]?.stringValue,
                let key = file["private_key"]?.stringValue
            else {
                throw PushConfigurationError("push.service_account_file: project_id, client_email and private_key are required")
            }
            return Account(
                projectID: project, clientEmail: email, privateKey: key, tokenURL: file["token_uri"]?.stringValue ?? settings.tokenURL)
        }
        guard !settings.projectID.isEmpty || !settings.clientEmail.isEmpty || !settings.privateKey.isEmpty else { return nil }
        guard !settings.projectID.isEmpty, !settings.clientEmail.isEmpty, !settings.privateKey.isEmpty else {
            throw PushConfigurationError("push: project_id, client_email and private_key are needed together")
        }
        return Account(
            projectID: settings.projectID, clientEmail: settings.clientEmail, privateKey: settings.privateKey, tokenURL: settings.tokenURL)
    }

    /// Sends `notification` to one device.
    func send(_ notification: PushNotification, to token: String) async -> Outcome {
        do {
            let bearer = try await currentAccessToken()
            var data = notification.data
            data["notification_type"] = data["notification_type"] ?? notification.kind
            data["title"] = notification.title
            data["body"] = notification.body
            let message: JSONValue = [
                "message": [
                    "token": .string(token),
                    "notification": ["title": .string(notification.title), "body": .string(notification.body)],
                    "data": .object(data.mapValues(JSONValue.string)),
                ],
            ]
            let url = "\(settings.fcmBaseURL.trimmingSuffix("/"))/v1/projects/\(account.projectID)/messages:send"
            let (status, body) = try await post(url, body: message.jsonData(), contentType: "application/json", bearer: bearer)
            switch status {
            case 200..<300: return .sent
            case 401:
                accessToken = nil
                return .failed("401 from FCM: \(body.prefix(200))")
            default:
                let code = (try? JSONValue(parsing: Data(body.utf8)))?["error"]?["details"]?.arrayValue?
                    .compactMap { $0["errorCode"]?.stringValue }.first
                let statusText = (try? JSONValue(parsing: Data(body.utf8)))?["error"]?["status"]?.stringValue
                if status == 404 || code == "UNREGISTERED" || statusText == "NOT_FOUND"
                    || (status == 400 && (code == "INVALID_ARGUMENT" || statusText == "INVALID_ARGUMENT") && body.contains("token"))
                {
                    return .tokenGone
                }
                return .failed("\(status) from FCM: \(body.prefix(200))")
            }
        } catch {
            return .failed("\(error)")
        }
    }

    private func currentAccessToken() async throws -> String {
        if let accessToken, accessToken.renewAfter > Date() { return accessToken.value }
        let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let assertion = try await keys.sign(
            Assertion(
                iss: .init(value: account.clientEmail), scope: "https://www.googleapis.com/auth/firebase.messaging",
                aud: .init(value: account.tokenURL), iat: .init(value: now), exp: .init(value: now.addingTimeInterval(3600))))
        let form = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=\(assertion)"
        let (status, body) = try await post(account.tokenURL, body: Data(form.utf8), contentType: "application/x-www-form-urlencoded", bearer: nil)
        guard status == 200, let answer = try? JSONValue(parsing: Data(body.utf8)), let token = answer["access_token"]?.stringValue else {
            throw PushConfigurationError("the token endpoint answered \(status): \(body.prefix(200))")
        }
        let lifetime = Double(answer["expires_in"]?.intValue ?? 3600)
        accessToken = (token, Date().addingTimeInterval(max(30, lifetime - 60)))
        return token
    }

    private func post(_ url: String, body: Data, contentType: String, bearer: String?) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await http.execute(request, timeout: .milliseconds(Int64(settings.timeoutSeconds * 1000)))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: bytes))
    }
}

/// Push settings that cannot work; reported at startup.
struct PushConfigurationError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
