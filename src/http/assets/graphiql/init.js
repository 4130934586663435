// GraphiQL against this gateway's /graphql and /graphql/ws. A key signed in to the
// console (same tab's session storage) is filled into the Headers pane; otherwise
// add {"Authorization": "Bearer <key>"} there.
(function () {
  "use strict";
  var origin = window.location.origin;
  var socket = origin.replace(/^http/, "ws");
  var key = null;
  try {
    key = window.sessionStorage.getItem("freightgate.key");
  } catch (e) {
    key = null;
  }
  // The key goes with every request (the schema's introspection too), and as the
  // websocket's connection parameters; the Headers pane's values override it.
  var signedIn = key ? { Authorization: "Bearer " + key } : {};
  var fetcher = GraphiQL.createFetcher({
    url: origin + "/graphql",
    subscriptionUrl: socket + "/graphql/ws",
    headers: signedIn,
    wsConnectionParams: signedIn,
  });
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultHeaders: JSON.stringify(
        key ? { Authorization: "Bearer " + key } : { Authorization: "Bearer <your key>" },
        null,
        2
      ),
      defaultEditorToolsVisibility: true,
    })
  );
})();
