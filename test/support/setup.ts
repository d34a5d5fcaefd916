import "./matchers";
