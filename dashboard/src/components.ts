// The bundle's entry: importing it defines <aiot-dashboard> and <aiot-node>.
export { AiotDashboard } from "./aiot-dashboard.ts";
export { AiotNode } from "./aiot-node.ts";
